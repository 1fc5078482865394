package httpapi_test

import (
	"testing"

	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
)

// TestAPI_Prism runs the HTTP suite on the bolt store through Stoplight's
// Prism in proxy mode ($PRISM; scripts/test.sh installs it): a second,
// independent validator of every response against api/openapi.yaml. Any
// response violation fails the test.
func TestAPI_Prism(t *testing.T) {
	apitest.RunAPITests(t, newBoltRepo, apitest.WithPrism(apitest.StartPrism(t)))
}
