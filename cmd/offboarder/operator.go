package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// operatorFlags are the flags every command a person runs against a case
// shares: who (for the audit log), note, --json, and the admin API's
// address and token.
type operatorFlags struct {
	fs     *flag.FlagSet
	client func() (*apiClient, error)
	who    *string
	note   *string
	json   *bool
}

// newOperatorFlags makes the flag set of the command name; whoHelp and
// noteHelp describe --who and --note.
func newOperatorFlags(name, whoHelp, noteHelp string, stderr io.Writer) *operatorFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &operatorFlags{
		fs:     fs,
		client: newAPIClient(fs),
		who:    fs.String("who", "", whoHelp),
		note:   fs.String("note", "", noteHelp),
		json:   fs.Bool("json", false, "print JSON"),
	}
}

// parse reads args (flags anywhere among the positional arguments) and
// returns the positional ones; usage is the command's synopsis, for a
// wrong count (want < 0: any count).
func (o *operatorFlags) parse(args []string, want int, usage string) ([]string, error) {
	pos, err := parseInterspersed(o.fs, args)
	if err != nil {
		return nil, err
	}
	if want >= 0 && len(pos) != want {
		return nil, fmt.Errorf("%w: %s", errUsage, usage)
	}
	return pos, nil
}

// person is --who, or def when it is empty; an error names what the
// person does when both are empty.
func (o *operatorFlags) person(def, does string) (string, error) {
	if name := strings.TrimSpace(*o.who); name != "" {
		return name, nil
	}
	if def != "" {
		return def, nil
	}
	return "", fmt.Errorf("%w: --who is required: the person who %s", errUsage, does)
}

// body is the JSON {"who", "note"} of a write.
func (o *operatorFlags) body(who string) map[string]any {
	return map[string]any{"who": who, "note": *o.note}
}
