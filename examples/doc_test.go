// The tests of this module build every example service once and run each
// as a real process on a free loopback port, driving the contract that the
// end-to-end suite relies on: the same table for every framework.
package examples_test
