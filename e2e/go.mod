module github.com/apptoken-go/apptoken/e2e

go 1.26.0

require (
	github.com/apptoken-go/apptoken/core v0.1.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

require (
	github.com/apptoken-go/apptoken/jwt v0.1.0
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
)

replace github.com/apptoken-go/apptoken/jwt => ../jwt

replace github.com/apptoken-go/apptoken/core => ../core
