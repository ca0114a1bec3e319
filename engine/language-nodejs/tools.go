//go:build tools

// Package tools pins the Node.js language host. Its own module is not served
// by the module proxy, so it is built from the last SDK release that still
// contained it (see docs/ENGINE.md).
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
