package rulefile

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts what bot.Bot.Schedule accepts: five fields (minute
// first) or six (second first), descriptors such as @daily and
// "@every 1h", and a CRON_TZ= or TZ= prefix. Schedule parses the spec again
// when the set is installed.
var cronParser = cron.NewParser(
	cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor,
)

// checkCron validates a cron spec as bot.Bot.Schedule will: the parser's
// errors, the panics it raises for some malformed time zones, "@every"
// durations the Bot refuses (under a second, or not whole seconds), and
// schedules that never fire.
func checkCron(spec string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	body := spec
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		eq, sp := strings.IndexByte(spec, '='), strings.IndexByte(spec, ' ')
		switch {
		case sp < 0 || strings.TrimSpace(spec[sp:]) == "":
			return errors.New("a time zone must be followed by a schedule")
		case sp == eq+1:
			return errors.New("empty time zone")
		}
		body = strings.TrimSpace(spec[sp:])
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return err
	}
	if every, ok := strings.CutPrefix(body, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(every))
		switch {
		case err != nil:
			return err
		case d < time.Second:
			return errors.New("@every needs a duration of at least 1s")
		case d%time.Second != 0:
			return errors.New("@every needs a whole number of seconds")
		}
		return nil
	}
	if sched.Next(time.Now()).IsZero() {
		return errors.New("the schedule never fires")
	}
	return nil
}
