package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// importSummary counts what an import did with its rows.
type importSummary struct {
	Created, Repeated, Linked, Rejected int
	// Warned counts rows imported with parts cleaned, cut short or left out.
	Warned int
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot import FILE.csv")
		fmt.Fprintln(stderr, "Columns are named like the intake API's JSON fields: external_id, source, segment, score,")
		fmt.Fprintln(stderr, "owner_email, contact.name, contact.email, contact.title, contact.phone, company.name,")
		fmt.Fprintln(stderr, "company.domain, company.employees, company.industry, company.country, crm_url, value,")
		fmt.Fprintln(stderr, "handed_off_at, context.activity.visits, context.activity.pages and .downloads (separated")
		fmt.Fprintln(stderr, "by ;), and context.form.QUESTION for each form answer. Running a file twice creates nothing new.")
		fmt.Fprintln(stderr, "A row may carry the lead's outcome as POST /v1/leads/{external_id}/outcome takes it: outcome")
		fmt.Fprintln(stderr, "(opportunity, won, lost or disqualified), outcome.amount, outcome.at (RFC 3339, default now), and")
		fmt.Fprintln(stderr, "outcome.opportunity_at, when a won or lost lead became an opportunity.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	cfg, ok := databaseConfig("import", stderr)
	if !ok {
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "slabot import: cannot open %s: %v\n", fs.Arg(0), err)
		return 1
	}
	defer f.Close()
	policy, problems := engine.LoadPolicy(cfg.PolicyFile, time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		fmt.Fprintf(stderr, "slabot import: the policy file %s has problems:\n%v\n", cfg.PolicyFile, errs)
		return 1
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "slabot import:", err)
		return 1
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "slabot import:", err)
		return 1
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		fmt.Fprintln(stderr, "slabot import:", err)
		return 1
	}
	svc := engine.NewService(db, policy, time.Now, logger)
	size := int64(0)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	progress := newProgress(stdout, size)
	sum, err := importCSV(ctx, svc, f, progress, stderr)
	progress.done()
	fmt.Fprintf(stdout, "Imported %s: %d created, %d repeated, %d linked to an open lead, %d rejected.\n",
		fs.Arg(0), sum.Created, sum.Repeated, sum.Linked, sum.Rejected)
	if sum.Warned > 0 {
		fmt.Fprintf(stdout, "%d imported rows had parts cleaned, cut short or left out; the warnings name each by its line.\n", sum.Warned)
	}
	if err != nil {
		fmt.Fprintln(stderr, "slabot import stopped:", err)
		fmt.Fprintln(stderr, "Run the same command again: rows already imported are recognised and skipped.")
		return 1
	}
	if sum.Rejected > 0 {
		return 1
	}
	return 0
}

// handOffService is what the import needs of the engine.
type handOffService interface {
	HandOff(ctx context.Context, h engine.HandOff) (*engine.HandOffResult, error)
	SetOutcome(ctx context.Context, leadID int64, a engine.Actor, outcome string, amount float64, at time.Time) (*engine.Lead, error)
}

// importCSV hands off each row on its own, so a crash part-way keeps every
// row done so far, and a second run repeats none of them.
func importCSV(ctx context.Context, svc handOffService, r io.Reader, p *progress, stderr io.Writer) (importSummary, error) {
	var sum importSummary
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return sum, fmt.Errorf("the file has no header row: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return sum, nil
		}
		line, _ := cr.FieldPos(0)
		p.update(cr.InputOffset())
		if err != nil {
			sum.Rejected++
			fmt.Fprintf(stderr, "line %d: skipped: %v\n", line, err)
			continue
		}
		outcome, record, err := readRowOutcome(header, record)
		if err != nil {
			sum.Rejected++
			fmt.Fprintf(stderr, "line %d: skipped: %v\n", line, err)
			continue
		}
		body, notUTF8, err := rowJSON(header, record)
		if err != nil {
			sum.Rejected++
			fmt.Fprintf(stderr, "line %d: skipped: %v\n", line, err)
			continue
		}
		h, warnings, errs := api.DecodeHandOff(body)
		if len(errs) > 0 {
			sum.Rejected++
			fmt.Fprintf(stderr, "line %d: skipped: %v\n", line, errs)
			continue
		}
		// The row is imported with what fits; say what was changed.
		for _, col := range notUTF8 {
			fmt.Fprintf(stderr, "line %d: %s: bytes that are not UTF-8 were replaced with �\n", line, col)
		}
		for _, w := range warnings {
			fmt.Fprintf(stderr, "line %d: %s\n", line, w)
		}
		if len(notUTF8) > 0 || len(warnings) > 0 {
			sum.Warned++
		}
		res, err := svc.HandOff(ctx, h)
		if err != nil {
			if code := engine.ErrorCode(err); code == engine.EINVALID {
				sum.Rejected++
				fmt.Fprintf(stderr, "line %d: skipped: %v\n", line, err)
				continue
			}
			return sum, fmt.Errorf("line %d: %w", line, err)
		}
		if res.Outcome == engine.HandOffLinked {
			outcome = rowOutcome{} // a duplicate's outcome is not its open lead's
		}
		if err := outcome.record(ctx, svc, res.Lead); err != nil {
			if code := engine.ErrorCode(err); code == engine.EINVALID {
				sum.Warned++
				fmt.Fprintf(stderr, "line %d: the lead was handed off, but its outcome was not recorded: %v\n", line, engine.ErrorMessage(err))
			} else {
				return sum, fmt.Errorf("line %d: %w", line, err)
			}
		}
		switch res.Outcome {
		case engine.HandOffCreated:
			sum.Created++
		case engine.HandOffRepeated:
			sum.Repeated++
		case engine.HandOffLinked:
			sum.Linked++
		}
	}
}

// rowJSON turns one CSV row into the intake API's JSON object: a column
// named contact.email becomes {"contact": {"email": …}}. JSON holds only
// UTF-8, so other bytes become U+FFFD; notUTF8 names the columns that had
// them.
func rowJSON(header, record []string) (body []byte, notUTF8 []string, err error) {
	obj := map[string]any{}
	for i, col := range header {
		if i >= len(record) || col == "" {
			continue
		}
		v := strings.TrimSpace(record[i])
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			name, _ := engine.CleanLine(col)
			notUTF8 = append(notUTF8, name)
		}
		var value any = v
		switch col {
		case "score", "value", "company.employees", "context.activity.visits":
			// NaN and infinities stay text, for the decoder to name: JSON has no such numbers.
			if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
				value = n
			}
		case "context.activity.pages", "context.activity.downloads":
			var list []string
			for _, s := range strings.Split(v, ";") {
				if s = strings.TrimSpace(s); s != "" {
					list = append(list, s)
				}
			}
			value = list
		}
		path := strings.Split(col, ".")
		if strings.HasPrefix(col, "context.form.") {
			path = []string{"context", "form", strings.TrimPrefix(col, "context.form.")}
		}
		node := obj
		for _, key := range path[:len(path)-1] {
			next, ok := node[key].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[key] = next
			}
			node = next
		}
		node[path[len(path)-1]] = value
	}
	body, err = json.Marshal(obj)
	return body, notUTF8, err
}
