// Package migrations embeds each module's SQL migrations (goose format), one folder per
// module and dialect: <module>/<dialect>/NNNNN_name.sql. Only the composition root
// (cmd/switchyard) applies them, each module into its own database with its own version
// table (<module>_schema_version); modules never import this package.
package migrations
