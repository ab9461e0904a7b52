package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Command is one shell command from README with what README says it prints.
type Command struct {
	Line     int    // README line of the command's first line
	Text     string // the command, continuation lines joined with newlines
	Expected string // the output shown after it ("" when none is shown)
	Status   int    // the exit status README announces ("# exit status N"), else 0
}

// Block is one fenced ```sh block.
type Block struct {
	Line     int
	Commands []Command
}

// skipMarker before a block (on the previous non-empty line) leaves it out:
// for blocks that start the server itself (`make run`) or need what the
// check cannot give (Docker, a cluster).
// The marker may name its reason: <!-- readme-check: skip (why) -->.
const skipMarker = "<!-- readme-check: skip"

var (
	fenceOpen = regexp.MustCompile("^(\\s*)```(sh|bash|console|shell)\\s*$")
	statusRE  = regexp.MustCompile(`#.*\bexit status (\d+)`)
)

// Parse returns README's fenced sh blocks in order. In a block where some
// line starts with "$ ", those lines (and their backslash continuations)
// are commands and the lines up to the next one are their output; in a
// block without prompts every line is a command (continuations joined),
// with no output shown. Lines inside a here-document stay with their
// command.
func Parse(r io.Reader) ([]Block, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var (
		blocks   []Block
		lines    []string
		start    int
		inBlock  bool
		indent   string
		skipNext bool
		prev     string
		n        int
	)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case !inBlock && fenceOpen.MatchString(line):
			inBlock, start, lines = true, n, nil
			indent = fenceOpen.FindStringSubmatch(line)[1]
			skipNext = strings.HasPrefix(strings.TrimSpace(prev), skipMarker)
		case inBlock && strings.TrimSpace(line) == "```":
			inBlock = false
			if !skipNext {
				b, err := parseBlock(start, lines)
				if err != nil {
					return nil, err
				}
				blocks = append(blocks, b)
			}
		case inBlock:
			// A block in a list item is indented: README shows it unindented.
			lines = append(lines, strings.TrimPrefix(line, indent))
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading README: %w", err)
	}
	if inBlock {
		return nil, fmt.Errorf("README line %d: the sh block is never closed", start)
	}
	return blocks, nil
}

func parseBlock(start int, lines []string) (Block, error) {
	b := Block{Line: start}
	prompted := false
	for _, l := range lines {
		if strings.HasPrefix(l, "$ ") {
			prompted = true
			break
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if prompted && !strings.HasPrefix(l, "$ ") {
			if len(b.Commands) == 0 {
				if strings.TrimSpace(l) == "" {
					continue
				}
				return b, fmt.Errorf("README line %d: output before the first $ command", start+1+i)
			}
			c := &b.Commands[len(b.Commands)-1]
			c.Expected += l + "\n"
			continue
		}
		text := strings.TrimPrefix(l, "$ ")
		if !prompted && (strings.TrimSpace(text) == "" || strings.HasPrefix(strings.TrimSpace(text), "#")) {
			continue
		}
		c := Command{Line: start + 1 + i, Text: text}
		// Backslash continuations and here-documents belong to the command.
		for strings.HasSuffix(strings.TrimRight(c.Text, " "), "\\") && i+1 < len(lines) {
			i++
			c.Text += "\n" + lines[i]
		}
		if m := heredoc.FindStringSubmatch(c.Text); m != nil {
			for i+1 < len(lines) {
				i++
				c.Text += "\n" + lines[i]
				if strings.TrimSpace(lines[i]) == m[1] {
					break
				}
			}
		}
		if m := statusRE.FindStringSubmatch(c.Text); m != nil {
			c.Status, _ = strconv.Atoi(m[1])
		}
		b.Commands = append(b.Commands, c)
	}
	for i := range b.Commands {
		b.Commands[i].Expected = strings.TrimRight(b.Commands[i].Expected, "\n")
	}
	return b, nil
}

var heredoc = regexp.MustCompile(`<<-?\s*'?"?([A-Za-z_]+)'?"?`)
