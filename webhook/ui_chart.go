package webhook

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/offboarder/offboarder/store"
)

// timesData is the time-to-revoke page: the chart, and the same numbers
// as a table.
type timesData struct {
	Days  int
	Chart template.HTML // an SVG drawn here; every text in it escaped
	Rows  []timesRow
}

// timesRow is one system over the period.
type timesRow struct {
	Connector string
	Count     int
	Mean, Max time.Duration
}

// Chart geometry, in SVG user units.
const (
	chartLabelW = 150
	chartMeanW  = 90
	chartRowH   = 26
	chartHeadH  = 22
)

// revokeChart draws one row per system and one column per day since
// first: each cell's bar is that day's mean time from an entry's creation
// to its outcome, on one scale for the whole chart (the longest mean fills
// a cell); a cell's title gives the count, mean and longest; the last
// column is the system's mean over the period.
func revokeChart(rows []store.RevokeTime, first time.Time, days int) timesData {
	d := timesData{Days: days}
	byConn := map[string]map[int]store.RevokeTime{}
	var top time.Duration
	for _, r := range rows {
		i := int(r.Day.Sub(first) / (24 * time.Hour))
		if i < 0 || i >= days {
			continue
		}
		if byConn[r.Connector] == nil {
			byConn[r.Connector] = map[int]store.RevokeTime{}
		}
		byConn[r.Connector][i] = r
		top = max(top, r.Mean)
	}
	conns := make([]string, 0, len(byConn))
	for c := range byConn {
		conns = append(conns, c)
	}
	sort.Strings(conns)
	for _, c := range conns {
		row := timesRow{Connector: c}
		var sum time.Duration
		for _, r := range byConn[c] {
			row.Count += r.Count
			sum += r.Mean * time.Duration(r.Count)
			row.Max = max(row.Max, r.Max)
		}
		if row.Count > 0 {
			row.Mean = sum / time.Duration(row.Count)
		}
		d.Rows = append(d.Rows, row)
	}
	if len(conns) == 0 {
		return d
	}

	cw := max(14, min(48, 700/days))
	w := chartLabelW + days*cw + chartMeanW
	h := chartHeadH + len(conns)*chartRowH + 4
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="time to revoke per system and day">`, w, h, w, h)
	step := 1
	if cw < 40 {
		step = (40 + cw - 1) / cw
	}
	for i := 0; i < days; i += step {
		day := first.AddDate(0, 0, i)
		fmt.Fprintf(&b, `<text x="%d" y="14" class="axis">%s</text>`, chartLabelW+i*cw+2, day.Format("01-02"))
	}
	fmt.Fprintf(&b, `<text x="%d" y="14" class="axis">mean</text>`, chartLabelW+days*cw+8)
	for ri, c := range conns {
		y := chartHeadH + ri*chartRowH
		if ri%2 == 0 {
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f4f6f8"/>`, y, w, chartRowH)
		}
		fmt.Fprintf(&b, `<text x="6" y="%d" class="label">%s</text>`, y+17, esc(c))
		for i := range days {
			x := chartLabelW + i*cw
			r, ok := byConn[c][i]
			if !ok {
				fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="1.5" fill="#c3c9d0"/>`, x+cw/2, y+chartRowH/2)
				continue
			}
			bw := 2
			if top > 0 {
				bw = max(2, int(float64(cw-4)*float64(r.Mean)/float64(top)))
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="14" rx="2" fill="%s"><title>%s %s: %d, mean %s, longest %s</title></rect>`,
				x+2, y+6, bw, barColour(r.Mean, top), esc(c), r.Day.Format(time.DateOnly), r.Count, uiDur(r.Mean), uiDur(r.Max))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="value">%s</text>`, chartLabelW+days*cw+8, y+17, esc(uiDur(d.Rows[ri].Mean)))
	}
	b.WriteString(`</svg>`)
	d.Chart = template.HTML(b.String()) // built above from numbers and escaped names only
	return d
}

// barColour shades a bar from blue (fast) to amber (the slowest mean).
func barColour(m, top time.Duration) string {
	if top > 0 && m*10 >= top*7 {
		return "#d98b1c"
	}
	return "#3b7dd8"
}
