package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The browser tests drive parley dev's page in headless Chromium. They are
// skipped when no Chromium is installed, unless PARLEY_BROWSER_TESTS=1
// makes them required (as CI does). With PARLEY_SCREENSHOTS set to a
// directory, they save screenshots of the main views there:
//
//	PARLEY_SCREENSHOTS=$PWD/docs go test -run TestDevPage ./cmd/parley

// chromiumPath returns the Chromium (or Chrome) executable on PATH, "" if
// there is none.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile for the test
// and returns the context of its first tab, with a viewport of a laptop.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("PARLEY_BROWSER_TESTS") == "1" {
			t.Fatal("PARLEY_BROWSER_TESTS=1 but no chromium on PATH: install it (apt-get install chromium)")
		}
		t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium; PARLEY_BROWSER_TESTS=1 makes it required)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)), "start chromium")
	return ctx
}

// browse runs actions in the browser with a deadline.
func browse(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// waitJS waits until the JavaScript expression is true in the page.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			dump, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#tl").innerText + "\n---\n" + document.querySelector("#sb-chat").innerText`))
			t.Fatalf("waited 10s for %s (%s); err %v; page:\n%s", what, expr, err, dump)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// screenshot saves the viewport as name.png in $PARLEY_SCREENSHOTS, if set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// openPage opens parley dev's page and waits for it to follow the bot.
func openPage(t *testing.T, ctx context.Context, h *devHarness) {
	t.Helper()
	browse(t, ctx, chromedp.Navigate(h.page))
	waitJS(t, ctx, "the bot connected", `document.querySelector("#bot-status").classList.contains("pill-ok")`)
}

// say types text as the Sendbee customer and sends it with Enter.
func say(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	browse(t, ctx, chromedp.SendKeys(chromedp.CSS("#sb-text"), text+"\n"))
}

// jsString quotes s for JavaScript.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// item returns a JavaScript expression for the timeline entry of the
// customer message text.
func item(text string) string {
	return `[...document.querySelectorAll("#tl .tl-item")].find(li => li.querySelector(".tl-text")?.textContent === "“" + ` + jsString(text) + ` + "”")`
}

// botSaid returns a JavaScript expression counting the bot's messages in
// the WhatsApp chat that contain text.
func botSaid(text string) string {
	return `[...document.querySelectorAll("#sb-chat .msg[data-source=api] .body")].filter(b => b.textContent.includes(` + jsString(text) + `)).length`
}

// Typing as the customer gets the bot's answer in the chat, and the
// timeline shows the message's steps in order; the entry opens on the
// raw payload and the bot.Message.
func TestDevPage_chat(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	openPage(t, ctx, h)
	say(t, ctx, "hello")
	waitJS(t, ctx, "the bot's answer in the chat", botSaid("Hello! Ask about an order or a refund.")+` === 1`)
	waitJS(t, ctx, "the timeline entry with its reply sent", item("hello")+`?.querySelector(".tag-ok")?.textContent === "1 reply sent"`)

	types := mustEval[[]string](t, ctx, `[...`+item("hello")+`.querySelectorAll(".step")].map(s => s.dataset.type).filter(t => !t.startsWith("note-"))`)
	require.Equal(t, []string{"received", "owner", "routed"}, types[:3], "steps: %v", types)
	require.Less(t, indexOf(types, "routed"), indexOf(types, "queued"), "steps: %v", types)
	require.Less(t, indexOf(types, "queued"), indexOf(types, "sent"), "steps: %v", types)
	waitJS(t, ctx, "the webhook delivery under the message", item("hello")+`.querySelector("[data-type=note-delivery]")`)

	// Play the other sides too, for the screenshot.
	say(t, ctx, "I want a refund")
	waitJS(t, ctx, "the refund answer", botSaid("Refunds take 5 working days")+` === 1`)
	screenshot(t, ctx, "dev-page")

	browse(t, ctx, chromedp.Click(chromedp.JSPath(item("hello"))))
	waitJS(t, ctx, "the detail with the bot.Message", `document.querySelector("#detail").open && document.querySelector("#detail-body").textContent.includes('"Text": "hello"')`)
	waitJS(t, ctx, "the raw payload", `document.querySelector("#detail-body").textContent.includes('"type": "message.received"')`)
	screenshot(t, ctx, "dev-detail")
	browse(t, ctx, chromedp.KeyEvent("\x1b"))
	waitJS(t, ctx, "the detail closed by Escape", `!document.querySelector("#detail").open`)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Delivering the last webhook three times in all gives one reply and two
// duplicates.
func TestDevPage_redeliver(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	openPage(t, ctx, h)
	say(t, ctx, "order 42")
	waitJS(t, ctx, "the answer", botSaid("Order 42 left our warehouse")+` === 1`)
	waitJS(t, ctx, "the reply sent", item("order 42")+`?.querySelector(".tag-ok")?.textContent === "1 reply sent"`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("[data-redeliver]")))
	waitJS(t, ctx, "two duplicates", item("order 42")+`?.querySelector(".summary").textContent.includes("2 duplicates")`)
	tags := mustEval[string](t, ctx, item("order 42")+`.querySelector(".summary").textContent`)
	require.Contains(t, tags, "1 reply sent")
	require.NotContains(t, tags, "replies")
	waitJS(t, ctx, "the redeliveries under the message", item("order 42")+`.querySelectorAll("[data-type=note-delivery]").length === 3`)
	require.NotContains(t, mustEval[string](t, ctx, `document.querySelector("#fault-result").textContent`), "no customer message")
	require.Equal(t, 1, mustEval[int](t, ctx, botSaid("Order 42 left our warehouse")))
	screenshot(t, ctx, "dev-redeliver")
}

func mustEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err)
	return v
}

// Switching the chatbot off in the dashboard hands the conversation to a
// human: the bot stays quiet; Resume in the operate panel gives it back.
func TestDevPage_handoff(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	openPage(t, ctx, h)
	say(t, ctx, "hi")
	waitJS(t, ctx, "the answer", botSaid("Hello! Ask about")+` === 1`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("label.switch")))
	waitJS(t, ctx, "the chatbot off", `document.querySelector("#sb-chatbot-state").textContent.startsWith("off")`)
	waitJS(t, ctx, "the owner changed on the timeline", `[...document.querySelectorAll("#tl [data-kind=owner_changed]")].some(s => s.textContent.includes("owner now human"))`)
	say(t, ctx, "refund please")
	waitJS(t, ctx, "the bot quiet", item("refund please")+`?.querySelector(".summary")?.textContent.includes("bot quiet: a human owns it")`)
	waitJS(t, ctx, "the message handled", item("refund please")+`.querySelector("[data-type=handled]")`)
	require.Equal(t, 0, mustEval[int](t, ctx, botSaid("Refunds take")))

	browse(t, ctx, chromedp.Click(chromedp.CSS("#tab-convs")))
	waitJS(t, ctx, "the conversation owned by a human", `[...document.querySelectorAll("#convs li")].some(li => li.textContent.includes("human") && li.textContent.includes("Resume"))`)
	screenshot(t, ctx, "dev-handoff")
	browse(t, ctx, chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll("#convs li")].find(li => li.textContent.includes("Resume")).querySelector("button")`)))
	waitJS(t, ctx, "the conversation back with the bot", `[...document.querySelectorAll("#tl [data-kind=owner_changed]")].some(s => s.textContent.includes("owner now bot"))`)
	say(t, ctx, "refund now")
	waitJS(t, ctx, "the bot answering again", botSaid("Refunds take")+` === 1`)
}

// A send the platform refuses becomes a dead letter in the operate panel;
// Replay sends it. The rules tab explains a text as it is typed.
func TestDevPage_deadLetterAndExplain(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	openPage(t, ctx, h)
	browse(t, ctx, chromedp.Click(chromedp.CSS("[data-fault='4xx']")))
	waitJS(t, ctx, "the fault on the timeline", `document.querySelector("#tl [data-kind=note-fault]")`)
	say(t, ctx, "refund")
	waitJS(t, ctx, "the dead letter", `document.querySelector("#dead li[data-id]")`)
	waitJS(t, ctx, "dead-lettered on the timeline", item("refund")+`?.querySelector(".tag-bad")`)
	require.Equal(t, 0, mustEval[int](t, ctx, botSaid("Refunds take")))
	screenshot(t, ctx, "dev-dead-letter")
	browse(t, ctx, chromedp.Click(chromedp.CSS("#dead li[data-id] button")))
	waitJS(t, ctx, "the replayed reply in the chat", botSaid("Refunds take")+` === 1`)
	waitJS(t, ctx, "no dead letters left", `!document.querySelector("#dead li[data-id]")`)
	waitJS(t, ctx, "replayed on the timeline", `document.querySelector("#tl .step[data-type=replayed]")`)

	browse(t, ctx, chromedp.Click(chromedp.CSS("#tab-rules")),
		chromedp.SendKeys(chromedp.CSS("#explain-text"), "I want a refund"))
	waitJS(t, ctx, "the explanation", `[...document.querySelectorAll("#explain li.runs")].some(li => li.textContent.includes("refund"))`)
	waitJS(t, ctx, "the routes", `document.querySelectorAll("#rules li").length >= 4`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#tab-jobs")))
	waitJS(t, ctx, "the job", `[...document.querySelectorAll("#jobs li")].some(li => li.textContent.includes("reminder"))`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#jobs li button")))
	waitJS(t, ctx, "the job ran", `[...document.querySelectorAll("#tl [data-kind=job_fired]")].some(li => li.textContent.includes("ran (run now)"))`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#tab-rules")))
	screenshot(t, ctx, "dev-operate")
}

// On a phone-sized window the page shows one section at a time.
func TestDevPage_phone(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	browse(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	openPage(t, ctx, h)
	say(t, ctx, "hello")
	waitJS(t, ctx, "the answer", botSaid("Hello! Ask about")+` === 1`)
	require.False(t, mustEval[bool](t, ctx, `document.querySelector("#timeline").checkVisibility()`), "the timeline is hidden behind its section button")
	screenshot(t, ctx, "dev-phone")
	browse(t, ctx, chromedp.Click(chromedp.CSS(`.sections button[data-section=timeline]`)))
	waitJS(t, ctx, "the timeline shown", `document.querySelector("#timeline").checkVisibility() && !document.querySelector("#play").checkVisibility()`)
	waitJS(t, ctx, "the entry", item("hello"))
	width := mustEval[int](t, ctx, `document.documentElement.scrollWidth`)
	require.LessOrEqual(t, width, 390, "nothing wider than the phone")
	screenshot(t, ctx, "dev-phone-timeline")
}

// The VelaFlows inbox and the Flowdock flow are played from their tabs:
// the bot answers the customer in the inbox and stays quiet once an agent
// is assigned; it answers a team member in the flow and in a private chat.
func TestDevPage_velaflowsAndFlowdock(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	openPage(t, ctx, h)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#tab-velaflows")),
		chromedp.SendKeys(chromedp.CSS("#vf-text"), "hello\n"))
	waitJS(t, ctx, "the bot's answer in the inbox", `[...document.querySelectorAll("#vf-chat .msg[data-dir=outbound]")].some(m => m.textContent.includes("Hello! Ask about"))`)
	waitJS(t, ctx, "the VelaFlows entry on the timeline", `[...document.querySelectorAll("#tl .tl-item[data-platform=velaflows]")].some(li => li.textContent.includes("1 reply sent"))`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#vf-assign")))
	waitJS(t, ctx, "the conversation assigned", `document.querySelector("#vf-status").textContent.includes("Alex")`)
	waitJS(t, ctx, "the owner changed", `[...document.querySelectorAll("#tl [data-kind=owner_changed]")].some(s => s.textContent.includes("owner now human"))`)
	browse(t, ctx, chromedp.SendKeys(chromedp.CSS("#vf-text"), "refund\n"))
	waitJS(t, ctx, "the bot quiet", `[...document.querySelectorAll("#tl .tl-item[data-platform=velaflows]")].some(li => li.textContent.includes("bot quiet"))`)
	screenshot(t, ctx, "dev-velaflows")

	browse(t, ctx, chromedp.Click(chromedp.CSS("#tab-flowdock")),
		chromedp.SendKeys(chromedp.CSS("#fd-text"), "hello\n"))
	waitJS(t, ctx, "the bot's answer in the flow", `[...document.querySelectorAll("#fd-chat .msg[data-dir=outbound]")].some(m => m.textContent.includes("Hello! Ask about"))`)
	browse(t, ctx, chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll("#fd-chat .msg[data-dir=outbound]")].find(m => m.textContent.includes("Hello! Ask about")).querySelector("button")`)))
	waitJS(t, ctx, "replying in the thread", `!document.querySelector("#fd-thread").hidden`)
	browse(t, ctx, chromedp.SendKeys(chromedp.CSS("#fd-text"), "hi again\n"))
	waitJS(t, ctx, "the question in the thread", `[...document.querySelectorAll("#fd-chat .msg.threaded[data-dir=inbound]")].some(m => m.textContent.includes("hi again"))`)
	waitJS(t, ctx, "the second answer in the thread", `[...document.querySelectorAll("#fd-chat .msg.threaded[data-dir=outbound]")].filter(m => m.textContent.includes("Hello! Ask about")).length === 2`)
	screenshot(t, ctx, "dev-flowdock-thread")

	// Dropping the streams: the bot's feed says its stream closed, then
	// that it is connected again, and the bot still answers.
	browse(t, ctx, chromedp.Click(chromedp.CSS("[data-fault=drop]")))
	waitJS(t, ctx, "the stream closed", `document.querySelector("#tl [data-kind=disconnected]")`)
	waitJS(t, ctx, "the stream connected again, newest first", `document.querySelector("#tl [data-kind=connected], #tl [data-kind=disconnected]").dataset.kind === "connected"`)
	browse(t, ctx, chromedp.Click(chromedp.CSS("#fd-thread-clear")), chromedp.SendKeys(chromedp.CSS("#fd-text"), "hello after the drop\n"))
	waitJS(t, ctx, "the answer after the drop", item("hello after the drop")+`?.querySelector(".tag-ok")?.textContent === "1 reply sent"`)
	browse(t, ctx, chromedp.SetValue(chromedp.CSS("#fd-where"), "private"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#fd-where").dispatchEvent(new Event("change"))`))
			return err
		}),
		chromedp.SendKeys(chromedp.CSS("#fd-text"), "order 9\n"))
	waitJS(t, ctx, "the bot's answer in the private chat", `[...document.querySelectorAll("#fd-chat .msg[data-dir=outbound]")].some(m => m.textContent.includes("Order 9 left"))`)
	waitJS(t, ctx, "the private message on the timeline, with its text", item("order 9")+`?.dataset.platform === "flowdock"`)
	screenshot(t, ctx, "dev-flowdock")
}

// The timeline keeps its newest 500 entries, so that a page left open on
// a busy bot does not grow without end.
func TestDevPage_timelineBounded(t *testing.T) {
	ctx := newBrowser(t)
	h := startDev(t)
	openPage(t, ctx, h)
	mustEval[bool](t, ctx, `(() => {
		for (let i = 0; i < 600; i++) {
			addEvent({seq: 1e6 + i, time: new Date().toISOString(), type: "received", platform: "sendbee",
				conversation: "c" + i, message: "synthetic-" + i, kind: "message"}, false);
		}
		return true;
	})()`)
	require.Equal(t, 500, mustEval[int](t, ctx, `tl.groups.size`))
	require.Equal(t, 500, mustEval[int](t, ctx, `document.querySelectorAll("#tl > li").length`))
	require.False(t, mustEval[bool](t, ctx, `tl.groups.has("sendbee|synthetic-99")`), "the oldest forgotten")
	require.True(t, mustEval[bool](t, ctx, `tl.groups.has("sendbee|synthetic-599")`))
}
