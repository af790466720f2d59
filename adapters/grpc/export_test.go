package apptokengrpc

// WithPublicMetadataAPI makes an interceptor read and strip the metadata
// with grpc's public API only, as it does on its own when the fast reader
// is unavailable, so that tests cover both.
func WithPublicMetadataAPI() Option {
	return optionFunc(func(c *config) { c.reader.fast = false })
}
