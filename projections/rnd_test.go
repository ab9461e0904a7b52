package projections_test

import (
	"math/rand/v2"
	"time"
)

func rnd() *rand.Rand { return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) }
