// Command credtrail is an offline evidence analyzer for AWS identity and access.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/report"
)

// Exit codes, listed in --help.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitFindings    = 3
	exitInterrupted = 130
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// streams are the outputs a command writes to; stdout carries only results.
type streams struct {
	out, err io.Writer
	log      *slog.Logger
	args     []string // the command line after "credtrail", for the case's run log
}

// usageError marks a mistake in the command line (exit 2).
type usageError struct{ error }

// exitCodeError carries a specific exit status with an optional message.
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := &streams{out: stdout, err: stderr, args: args}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// An unknown command is a usage error; cobra reports it as any other.
	if _, _, err := root.Find(args); err != nil {
		// cobra indents its "Did you mean" suggestions (our command names) with a tab.
		msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n\t", "\n  ")
		fmt.Fprintln(stderr, "credtrail:", report.TerminalLines(msg))
		return exitUsage
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	var ue usageError
	switch {
	case errors.As(err, &ec):
		if ec.msg != "" {
			fmt.Fprintln(stderr, "credtrail:", report.TerminalLines(ec.msg))
		}
		return ec.code
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "credtrail: interrupted")
		return exitInterrupted
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "credtrail:", report.TerminalLines(err.Error()))
		return exitUsage
	default:
		fmt.Fprintln(stderr, "credtrail:", report.TerminalLines(err.Error()))
		return exitError
	}
}

const exitCodesHelp = `
Exit codes:
  0    success
  1    error
  2    usage error
  3    findings at or above --fail-on
  130  interrupted
`

func newRootCmd(s *streams) *cobra.Command {
	var verbose, debug bool
	root := &cobra.Command{
		Use:           "credtrail",
		Short:         "Offline evidence analyzer for AWS identity and access",
		Long:          "credtrail loads IAM credential reports, account authorization details and CloudTrail archives\ninto a DuckDB case database and analyzes them offline.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			if debug {
				level = slog.LevelDebug
			}
			s.log = slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: level}))
		},
	}
	root.SetUsageTemplate(root.UsageTemplate() + exitCodesHelp)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log progress details to stderr")
	root.PersistentFlags().BoolVar(&debug, "debug", false, "log debugging details to stderr")
	root.AddCommand(newIngestCmd(s), newQueryCmd(s), newTimelineCmd(s), newVerifyCmd(s), newManifestCmd(s), newCaseCmd(s), newPolicyCmd(s), newSamplesCmd(s), newAnalyzeCmd(s), newRulesCmd(s),
		newReportCmd(s), newRunCmd(s), newVersionCmd(s), newDoctorCmd(s), newExportCmd(s))
	return root
}

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (as --version does)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(s.out, "credtrail version %s\n", version)
			return err
		},
	}
}

// minArgs is cobra.MinimumNArgs that reports a usage error.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
