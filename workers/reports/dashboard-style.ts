// The dashboard's stylesheet (served with the page's CSP nonce). Phone first: one column, wider screens get a grid.
export const DASHBOARD_STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #212529; background: #f4f5f7; font-size: 15px; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 12px; max-width: 1120px; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; margin-bottom: 8px; }
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 2px; }
nav { display: flex; gap: 4px; }
nav button { background: none; border: 0; border-bottom: 3px solid transparent; padding: 6px 10px; min-height: 40px; font: inherit; color: #495057; cursor: pointer; }
nav button[aria-current=page] { border-bottom-color: #1c7ed6; color: #1c7ed6; font-weight: 600; }
form { display: flex; flex-wrap: wrap; gap: 8px; margin: 0 0 8px; align-items: center; }
input, select, button { font: inherit; padding: 6px 8px; min-height: 40px; border: 1px solid #ced4da; border-radius: 6px; background: #fff; }
button.primary { background: #1c7ed6; color: #fff; border-color: #1c7ed6; cursor: pointer; }
button.link { border: 0; background: none; color: #1c7ed6; cursor: pointer; padding: 6px 4px; }
#token { width: 12em; }
#status { color: #495057; font-size: 0.9rem; margin: 4px 0 8px; min-height: 1.2em; }
#range { color: #495057; font-size: 0.85rem; margin: 0 0 12px; }
.explain { font-size: 0.82rem; color: #5c636a; margin: 2px 0 8px; line-height: 1.35; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 8px; margin-bottom: 12px; }
.kpi, .card { background: #fff; border: 1px solid #dee2e6; border-radius: 8px; padding: 10px 12px; }
.kpi h2 { font-size: 0.85rem; font-weight: 600; color: #495057; }
.kpi b { display: block; font-size: 1.45rem; margin: 2px 0; white-space: nowrap; }
.delta { font-size: 0.8rem; font-weight: 600; }
.delta.up { color: #2b8a3e; } .delta.down { color: #c92a2a; } .delta.flat { color: #868e96; }
.delta.bad.up { color: #c92a2a; } .delta.bad.down { color: #2b8a3e; }
.cards { display: grid; grid-template-columns: 1fr; gap: 12px; }
@media (min-width: 760px) { .cards { grid-template-columns: 1fr 1fr; } .wide { grid-column: 1 / -1; } }
.chart { position: relative; }
.chart svg { display: block; width: 100%; }
.chart text { font-size: 11px; fill: #5c636a; }
.chart .grid { stroke: #e9ecef; }
.chart .prev { fill: none; stroke: #868e96; stroke-width: 1.5; stroke-dasharray: 4 3; }
.chart rect.hit:hover, .chart rect.hit.active { fill: rgba(28, 126, 214, 0.08); }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 0.8rem; color: #495057; margin-top: 4px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; border-radius: 2px; }
.legend i.prev { height: 0; border-top: 2px dashed #868e96; border-radius: 0; }
#tooltip { position: absolute; pointer-events: none; background: #212529; color: #fff; font-size: 0.8rem; padding: 6px 8px; border-radius: 6px; white-space: nowrap; z-index: 2; }
#tooltip[hidden] { display: none; }
.bars { list-style: none; margin: 0; padding: 0; }
/* Label and figure on one line, the bar below at full width: no label is cut off, every bar has the same scale. */
.bars li { display: grid; grid-template-columns: minmax(0, 1fr) auto; grid-template-areas: "name num" "track track"; gap: 2px 8px; padding: 3px 0; font-size: 0.88rem; }
.bars .name { grid-area: name; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bars .track { grid-area: track; background: #f1f3f5; border-radius: 3px; height: 10px; }
.bars .fill { height: 10px; border-radius: 3px; min-width: 2px; }
.bars .num { grid-area: num; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; color: #343a40; }
.empty { color: #868e96; font-size: 0.88rem; }
ul.alerts { margin: 0; padding-left: 18px; font-size: 0.9rem; word-break: break-word; }
ul.alerts li.alert { color: #c92a2a; margin-bottom: 4px; }
#hostnames li[data-state="active"] { color: #2f9e44; } #hostnames li[data-state="failed"] { color: #e03131; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 0.85rem; }
th { text-align: left; font-weight: 600; color: #495057; border-bottom: 1px solid #dee2e6; padding: 6px 4px; white-space: nowrap; }
td { padding: 5px 4px; border-top: 1px solid #f1f3f5; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.path { white-space: normal; word-break: break-all; min-width: 8em; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-size: 0.78rem; font-weight: 600; }
.badge.ok { background: #d3f9d8; color: #2b8a3e; } .badge.warn { background: #fff3bf; color: #e67700; }
.badge.fail { background: #ffe3e3; color: #c92a2a; } .badge.gone, .badge.idle { background: #e9ecef; color: #495057; }
#fleet-filters { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; } #fleet-q { flex: 1 1 200px; }
#fleet th[data-sort] { cursor: pointer; } #fleet th[aria-sort] { color: #1c7ed6; }
#fleet tbody tr.row { cursor: pointer; } #fleet tbody tr.row:hover { background: #f8f9fa; }
#fleet td.name { white-space: normal; word-break: break-all; } #fleet td.name .badge { margin-left: 6px; }
#fleet tr.why td { border-top: 0; padding-top: 0; color: #5c636a; font-size: 0.8rem; white-space: normal; }
#fleet tr[data-health="fail"] td.num-5xx { color: #c92a2a; font-weight: 600; }
#errors-by { display: block; font-size: 0.8rem; color: #c92a2a; margin-top: 2px; }
@media (max-width: 600px) { .wide-only { display: none; } }
body[data-show=containers] #container { display: none; }
[data-view] { display: none; }
body[data-show=overview] [data-view=overview], body[data-show=logs] [data-view=logs], body[data-show=containers] [data-view=containers] { display: block; }
`;
