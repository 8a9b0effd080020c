package ecs

import (
	"net/http"

	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// apiError is an ECS error answer: HTTP status plus Alibaba's Code/Message.
type apiError = rpc.Error

var (
	newErr          = rpc.Errorf
	errMissing      = rpc.ErrMissing
	errInvalidParam = rpc.ErrInvalidParam
	errThrottled    = rpc.ErrThrottled
)

func errENINotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidEniId.NotFound", "The specified ENI ID %q does not exist.", id)
}

func errInstanceNotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidEcsId.NotFound", "The specified instance ID %q does not exist.", id)
}
