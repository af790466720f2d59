module github.com/apptoken-go/apptoken/adapters/echov5

go 1.26.0

require (
	github.com/apptoken-go/apptoken/core v0.1.0
	github.com/labstack/echo/v5 v5.4.4
)

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

require (
	github.com/apptoken-go/apptoken/jwt v0.1.0
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/apptoken-go/apptoken/core => ../../core

replace github.com/apptoken-go/apptoken/jwt => ../../jwt
