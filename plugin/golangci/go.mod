module github.com/govitals/vitals/plugin/golangci

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/govitals/vitals v0.0.0
	golang.org/x/tools v0.52.1-0.20261106145633-d407941a339a
)

require (
	github.com/golangci/plugin-module-register v0.1.2
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
)

replace github.com/govitals/vitals => ../..
