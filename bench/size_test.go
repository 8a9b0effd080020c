package bench

import (
	"os"
	"testing"
)

// BenchmarkSize reports the deployable sizes: dist/main and
// dist/function.zip against the hello-world binary built and zipped the
// same way. (The loop only re-reads the sizes; the metrics are the point.)
func BenchmarkSize(b *testing.B) {
	var sizes [4]int64
	for range b.N {
		for i, p := range []string{bins.fn, bins.fnZip, bins.hello, bins.helloZip} {
			fi, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			sizes[i] = fi.Size()
		}
	}
	const mb = 1 << 20
	b.ReportMetric(float64(sizes[0])/mb, "main-MiB")
	b.ReportMetric(float64(sizes[1])/mb, "zip-MiB")
	b.ReportMetric(float64(sizes[2])/mb, "hello-MiB")
	b.ReportMetric(float64(sizes[3])/mb, "hello-zip-MiB")
	b.ReportMetric(float64(sizes[0])/float64(sizes[2]), "x-hello")
	b.ReportMetric(float64(sizes[1])/float64(sizes[3]), "zip-x-hello")
}
