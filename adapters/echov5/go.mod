module github.com/apptoken-go/apptoken/adapters/echov5

go 1.26

require (
	github.com/apptoken-go/apptoken/core v0.1.0
	github.com/labstack/echo/v5 v5.4.4
)

require golang.org/x/time v0.15.0 // indirect

replace github.com/apptoken-go/apptoken/core => ../../core
