package recording

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"brownout/contract"
)

// lines counts the complete lines on disk in a run folder's file.
func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestWriterFlushesPeriodically(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		w, err := Create(dir, Header{}, FlushEvery(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close(0, time.Time{}, false)
		if err := w.Request(Request{Seq: 1}); err != nil {
			t.Fatal(err)
		}
		if err := w.Transition(Transition{To: contract.StateOpen}); err != nil {
			t.Fatal(err)
		}
		if err := w.UpstreamCall(UpstreamCall{Seq: 1}); err != nil {
			t.Fatal(err)
		}
		att, err := w.Attach("extra.bin")
		if err != nil {
			t.Fatal(err)
		}
		att.Write([]byte("x\n"))
		files := []string{RequestsFile, TransitionsFile, UpstreamFile, "extra.bin"}
		time.Sleep(299 * time.Millisecond)
		synctest.Wait()
		for _, f := range files {
			if n := lines(t, filepath.Join(dir, f)); n != 0 {
				t.Errorf("%s: %d lines on disk before the first flush, want 0 (buffered)", f, n)
			}
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		for _, f := range files {
			if n := lines(t, filepath.Join(dir, f)); n != 1 {
				t.Errorf("%s: %d lines on disk after the flush interval, want 1", f, n)
			}
		}
	})
}

func TestSecondWriterIsRefused(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Header{Scenario: "first"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Create(dir, Header{Scenario: "second"}, Replace())
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: err = %v, want ErrLocked", err)
	}
	if want := "process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not name the holder (%s)", err, want)
	}
	if err := w.Close(time.Second, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(dir)
	if err != nil || h.Scenario != "first" || !h.Complete {
		t.Errorf("the refused writer touched the first run's header: %+v, %v", h, err)
	}
	// The lock is gone with the first writer; the earlier run still is not.
	_, err = Create(dir, Header{Scenario: "third"})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "first") {
		t.Fatalf("folder with an earlier run: err = %v, want ErrExists naming it", err)
	}
}

func TestReplaceRemovesEarlierOutputsOnly(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Header{Scenario: "old"})
	if err != nil {
		t.Fatal(err)
	}
	w.Request(Request{Seq: 1})
	w.Close(time.Second, time.Now(), false)
	for _, name := range []string{"report.md", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err = Create(dir, Header{Scenario: "new"}, Replace(), Derived("report.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(0, time.Now(), false)
	if _, err := os.Stat(filepath.Join(dir, "report.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the earlier report is still beside the new run (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not an output was removed: %v", err)
	}
	if n := lines(t, filepath.Join(dir, RequestsFile)); n != 0 {
		t.Errorf("requests.jsonl keeps %d lines of the earlier run", n)
	}
	if _, err := Create(t.TempDir(), Header{}, Derived("../escape")); err == nil {
		t.Error("a derived name with a path: want an error")
	}
}

func TestAbortLeavesIncompleteHeader(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Header{Scenario: "s"})
	if err != nil {
		t.Fatal(err)
	}
	w.Request(Request{Seq: 1})
	if err := w.Abort(time.Unix(5, 0)); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h.Complete || h.EndedAt.IsZero() || h.Counts.Requests != 1 {
		t.Errorf("aborted header = complete %v, ended %v, counts %+v; want incomplete, ended, 1 request", h.Complete, h.EndedAt, h.Counts)
	}
	if lines(t, filepath.Join(dir, RequestsFile)) != 1 {
		t.Error("the aborted run's record was not kept")
	}
}

// TestCheckSaysWhatCreateWould: Check refuses what Create would refuse,
// without touching the folder.
func TestCheckSaysWhatCreateWould(t *testing.T) {
	dir := t.TempDir()
	if err := Check(dir); err != nil {
		t.Fatalf("empty folder: %v", err)
	}
	w, err := Create(dir, Header{Scenario: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(dir, Replace()); !errors.Is(err, ErrLocked) {
		t.Errorf("while a run writes: err = %v, want ErrLocked", err)
	}
	if err := w.Close(time.Second, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "first") {
		t.Errorf("earlier run: err = %v, want ErrExists naming it", err)
	}
	if err := Check(dir, Replace()); err != nil {
		t.Errorf("earlier run with Replace: %v", err)
	}
	if h, err := ReadHeader(dir); err != nil || h.Scenario != "first" || !h.Complete {
		t.Errorf("Check touched the run: %+v, %v", h, err)
	}
}
