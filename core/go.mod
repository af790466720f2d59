module github.com/apptoken-go/apptoken/core

go 1.26
