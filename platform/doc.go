// Package platform is Switchyard's technical kernel: storage, migrations, the bus, the
// outbox and inbox, HTTP plumbing. It imports no module; modules import it.
package platform
