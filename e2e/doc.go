// Package e2e holds fault tests of the built binary: each test runs bin/switchyard as a
// child process on PostgreSQL, breaks something real (kill -9 mid-load, the database
// dropping its connections) and checks over HTTP what survived. The tests carry the
// build tag "integration" so the normal suite does not run them; `make test-integration`
// does. BIN names a prebuilt binary; otherwise each test builds one.
package e2e
