package memory_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/memory"
)

// A stream written with expected versions and walked with the port's
// iterator, as commands do it against Postgres.
func Example() {
	ctx := context.Background()
	store := memory.New(memory.Options{})
	note := func(text string) eventstore.EventData {
		data, _ := json.Marshal(map[string]string{"text": text})
		return eventstore.EventData{ID: uuid.New(), Type: "Noted.v1", Data: data}
	}
	res, err := store.Append(ctx, "notes-1", eventstore.NoStream, note("first"), note("second"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Someone else's stale write is refused with the stream's version.
	_, err = store.Append(ctx, "notes-1", eventstore.NoStream, note("stale"))
	fmt.Println(err)
	if _, err := store.Append(ctx, "notes-1", eventstore.Exact(res.NextExpectedVersion), note("third")); err != nil {
		fmt.Println(err)
		return
	}
	for e, err := range eventstore.StreamEvents(ctx, store, "notes-1", 0, 2) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Version, e.Position, string(e.Data))
	}
	// Output:
	// eventstore: append to "notes-1": expected no stream, stream is at version 1
	// 0 1-0 {"text":"first"}
	// 1 2-0 {"text":"second"}
	// 2 3-0 {"text":"third"}
}
