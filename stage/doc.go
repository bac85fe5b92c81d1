// Package stage will publish verified tarballs to an npm registry, directly
// or as staged releases that wait for a human's approval. It is empty
// until that capability lands.
package stage
