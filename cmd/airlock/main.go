// Command airlock releases npm packages from CI without letting untrusted
// code near a publish credential.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
