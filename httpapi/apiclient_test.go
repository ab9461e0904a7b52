package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/multimedia-portal/multimedia/httpapi/apiclient"
)

// TestGeneratedClientTalksToTheServer: the typed client oapi-codegen made
// from the served document (httpapi/apiclient, `make apiclient`) compiles
// and decodes the server's real replies into its types: a 202, a 401 error
// body and a 503 error body.
func TestGeneratedClientTalksToTheServer(t *testing.T) {
	e := newTestEnv(t)
	srv := httptest.NewServer(e.server)
	defer srv.Close()
	c, err := apiclient.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	email := uniqueEmail("typed")
	reg, err := c.RegisterWithResponse(ctx, apiclient.RegisterJSONRequestBody{Email: email, Password: strongPassword})
	if err != nil {
		t.Fatal(err)
	}
	if reg.StatusCode() != http.StatusAccepted || reg.JSON202 == nil || reg.JSON202.Message == "" {
		t.Fatalf("register: %d %s", reg.StatusCode(), reg.Body)
	}
	in, err := c.LoginWithResponse(ctx, apiclient.LoginJSONRequestBody{Email: email, Password: "Wrong-Horse-42-Battery"})
	if err != nil {
		t.Fatal(err)
	}
	if in.StatusCode() != http.StatusUnauthorized || in.JSON401 == nil || in.JSON401.Error.Code != "invalid_credentials" {
		t.Fatalf("login with a wrong password: %d %s", in.StatusCode(), in.Body)
	}
	list, err := c.ListArticlesWithResponse(ctx, &apiclient.ListArticlesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if list.StatusCode() != http.StatusServiceUnavailable || list.JSON503 == nil || list.JSON503.Error.Code != "unavailable" {
		t.Fatalf("articles without read models: %d %s", list.StatusCode(), list.Body)
	}
}
