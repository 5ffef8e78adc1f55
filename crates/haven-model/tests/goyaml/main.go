// goyaml reads YAML documents as Kubernetes does and prints what it reads, for haven-model's
// differential test (crates/haven-model/tests/differential.rs).
//
// Kubernetes (kubectl, the API server, Helm) turns each YAML document into JSON with
// sigs.k8s.io/yaml, which decodes it with go-yaml v2 into interface{} and converts the maps'
// keys to strings. This program does exactly that, with the Debian packages of both
// (golang-k8s-sigs-yaml-dev, golang-gopkg-yaml.v2-dev), built offline:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOPROXY=off go build -o goyaml main.go
//
// Input on stdin: documents, each framed as its length in bytes in decimal, a newline, then
// its bytes. Output on stdout: one JSON line per document, in order:
//
//	{"json": <the document as sigs.k8s.io/yaml.YAMLToJSON returns it>}
//	{"error": "<what go-yaml or the conversion said>"}
//	{"ambiguous": "<why>"}
//
// "ambiguous" marks a document whose JSON depends on Go's random map order: two different YAML
// keys that become the same JSON key (`1:` and `"1":`), where the conversion keeps whichever
// it meets last.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	goyaml "gopkg.in/yaml.v2"
	"sigs.k8s.io/yaml"
)

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		header, err := in.ReadString('\n')
		if err == io.EOF && header == "" {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goyaml: bad frame header:", err)
			os.Exit(2)
		}
		n, err := strconv.Atoi(header[:len(header)-1])
		if err != nil || n < 0 {
			fmt.Fprintln(os.Stderr, "goyaml: bad frame length:", header)
			os.Exit(2)
		}
		doc := make([]byte, n)
		if _, err := io.ReadFull(in, doc); err != nil {
			fmt.Fprintln(os.Stderr, "goyaml: short frame:", err)
			os.Exit(2)
		}
		enc.Encode(read(doc))
		if in.Buffered() == 0 {
			// Nothing more waiting: answer now (a caller may be waiting for this one).
			out.Flush()
		}
	}
}

func read(doc []byte) (result map[string]interface{}) {
	defer func() {
		// sigs.k8s.io/yaml and go-yaml turn their own failures into errors; anything else
		// escaping is reported as an error of this document, not a crash of the batch.
		if r := recover(); r != nil {
			result = map[string]interface{}{"error": fmt.Sprint("panic: ", r)}
		}
	}()
	var raw interface{}
	if err := goyaml.Unmarshal(doc, &raw); err == nil {
		if why := collision(raw); why != "" {
			return map[string]interface{}{"ambiguous": why}
		}
	}
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	return map[string]interface{}{"json": json.RawMessage(j)}
}

// collision finds two keys of one map that sigs.k8s.io/yaml turns into the same string.
func collision(v interface{}) string {
	switch v := v.(type) {
	case map[interface{}]interface{}:
		seen := map[string]bool{}
		for k, child := range v {
			s, ok := keyString(k)
			if ok {
				if seen[s] {
					return "two keys become " + strconv.Quote(s)
				}
				seen[s] = true
			}
			if why := collision(child); why != "" {
				return why
			}
		}
	case []interface{}:
		for _, child := range v {
			if why := collision(child); why != "" {
				return why
			}
		}
	}
	return ""
}

// keyString is sigs.k8s.io/yaml's conversion of a map key (convertToJSONableObject).
func keyString(k interface{}) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case int:
		return strconv.Itoa(k), true
	case int64:
		return strconv.FormatInt(k, 10), true
	case float64:
		s := strconv.FormatFloat(k, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s, true
	case bool:
		if k {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
