//go:build tools

// Package tools pins the Pulumi CLI and the Node.js language host so that
// `go build` can build them from the Go module proxy (see scripts/setup-engine.sh).
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
