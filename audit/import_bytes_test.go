package audit_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// TestImportBatchesByBytes: import batches a stream's events under
// EventStoreDB's 1 MiB append limit as well as under BatchSize: 600 events
// of about 3 kB in one stream (1.8 MB, more than 500 of them would take)
// import into the EventStoreDB test double, which refuses appends over
// 1 MiB as a node does, and the chain still verifies.
func TestImportBatchesByBytes(t *testing.T) {
	t.Parallel()
	srcInner, _ := newESDB(t)
	src := audit.NewChainedStore(srcInner)
	ctx := ctxT(t)
	stream := "account-" + uuid.NewString()
	blob, _ := json.Marshal(map[string]string{"note": strings.Repeat("x", 3000)})
	expected := eventstore.NoStream
	for range 6 {
		batch := make([]eventstore.EventData, 100)
		for i := range batch {
			batch[i] = eventstore.EventData{ID: uuid.New(), Type: "Tested.v1", Data: blob, Metadata: json.RawMessage(`{}`)}
		}
		res, err := src.Append(ctx, stream, expected, batch...)
		if err != nil {
			t.Fatal(err)
		}
		expected = eventstore.Exact(res.NextExpectedVersion)
	}
	var buf bytes.Buffer
	if _, err := audit.Export(ctx, src, eventstore.Start, &buf, nil); err != nil {
		t.Fatal(err)
	}

	dstInner, _ := newESDB(t)
	dst := audit.NewChainedStore(dstInner)
	imp, err := audit.Import(ctx, dst, bytes.NewReader(buf.Bytes()), audit.ImportOptions{})
	if err != nil {
		t.Fatalf("import of %d bytes: %v", buf.Len(), err)
	}
	if imp.Events != 600 || imp.Appends < 2 {
		t.Fatalf("import: %+v; want 600 events in at least 2 appends", imp)
	}
	r, err := audit.Verify(ctx, dst, stream)
	if err != nil || !r.OK() || r.Events != 600 {
		t.Fatalf("verify after import: %+v, %v", r, err)
	}
}
