module github.com/apptoken-go/apptoken/adapters/chi

go 1.26.0

require (
	github.com/apptoken-go/apptoken/core v0.1.0
	github.com/apptoken-go/apptoken/jwt v0.1.0
	github.com/go-chi/chi/v5 v5.5.0
)

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

replace github.com/apptoken-go/apptoken/core => ../../core

replace github.com/apptoken-go/apptoken/jwt => ../../jwt
