module github.com/apptoken-go/apptoken/adapters/chi

go 1.26

require (
	github.com/apptoken-go/apptoken/core v0.1.0
	github.com/go-chi/chi/v5 v5.5.0
)

replace github.com/apptoken-go/apptoken/core => ../../core
