module github.com/apptoken-go/apptoken/cmd/apptoken

go 1.26.0

require (
	github.com/apptoken-go/apptoken/core v0.1.0
	github.com/golang-jwt/jwt/v5 v5.3.1
)

replace github.com/apptoken-go/apptoken/core => ../../core
