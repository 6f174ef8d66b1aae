# brownout — see README.md. Every target works on a fresh machine with Go 1.26.
GO       ?= go
BIN      := bin/brownout
PKGS     := ./...
# Time scale for `make run`: hard-outage is 4.5 minutes of scenario time.
RUN_SCENARIO ?= hard-outage
RUN_SCALE    ?= 10

.PHONY: build run test bench lint fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/brownout

# A demo to repeat: --force replaces the previous run in out/<scenario>.
run: build
	./$(BIN) run $(RUN_SCENARIO) --time-scale $(RUN_SCALE) --force

# The second pass runs the wall-clock time-compression test without the race
# detector, after the race pass, so it measures the chain at real speed on a
# quiet machine (see sim/scale_test.go); TestLaunchedAgreesWithInProcess
# (sim/agree_test.go) plays three scenarios twice, about two minutes.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(GO) test -count=1 -timeout 10m -run 'TestTimeCompressionAgrees|TestLaunchedAgreesWithInProcess' -v ./sim/

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin out
