module github.com/switchyardhq/switchyard/contracts

go 1.26
