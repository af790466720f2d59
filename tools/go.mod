module github.com/apptoken-go/apptoken/tools

go 1.26
