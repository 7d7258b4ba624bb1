/* platform-metrics: the page's filters (team, service, time range), offline, no library.

   The state lives in the URL's fragment, so a filtered view is a link:
     dora.html#team=payments&from=2025-01-06&to=2025-01-12&show=weekly-rows
   team, service    rows whose data-team / data-service equals it
   from, to         rows whose data-day (YYYY-MM-DD, the configured time zone) is within, inclusive
   show             the id of the section to open and scroll to
   any other key    rows whose data-<key> equals it (a card's link adds status=success)
   A row without an attribute is not subject to that filter (its table says so); a row with
   data-scope="team" or "service" is shown for a team view or a service view respectively.
   Charts: traces whose meta names a team or service are shown or hidden (Plotly.restyle); traces
   whose meta.points holds one value per point are redrawn with the matching points only; date
   axes are zoomed to the time range. Tables: shown rows are counted and their stats recomputed. */
(function () {
  "use strict";
  var KNOWN = ["team", "service", "from", "to", "show"];

  function parse(hash) {
    var state = {};
    (hash || "").replace(/^#/, "").split("&").forEach(function (part) {
      if (!part) return;
      var i = part.indexOf("=");
      var key = decodeURIComponent(i < 0 ? part : part.slice(0, i));
      var value = i < 0 ? "" : decodeURIComponent(part.slice(i + 1).replace(/\+/g, " "));
      if (/^[a-z][a-z0-9_-]*$/.test(key) && value) state[key] = value;
    });
    return state;
  }

  function serialise(state) {
    return Object.keys(state).filter(function (k) { return state[k]; }).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(state[k]);
    }).join("&");
  }

  function extras(state) {
    return Object.keys(state).filter(function (k) { return KNOWN.indexOf(k) < 0; });
  }

  function attr(el, key) {
    return el.hasAttribute("data-" + key) ? el.getAttribute("data-" + key) : null;
  }

  // Does a row (or a chart point) with these values pass? `get(key)` is null when absent.
  function passes(get, state, unapplied) {
    var scope = get("scope");
    if (scope !== null && scope !== (state.service ? "service" : "team")) return false;
    var keys = ["team", "service"].concat(extras(state));
    for (var i = 0; i < keys.length; i++) {
      var key = keys[i], want = state[key];
      if (!want) continue;
      var have = get(key);
      if (have === null) { if (unapplied) unapplied[key] = true; continue; }
      if (have !== want) return false;
    }
    if (state.from || state.to) {
      var day = get("day");
      if (day === null) { if (unapplied) unapplied.time = true; return true; }
      if (!day) return false;
      if (state.from && day < state.from) return false;
      if (state.to && day > state.to) return false;
    }
    return true;
  }

  function hours(value) {
    if (value < 1) return Math.round(value * 60) + " min";
    if (value < 48) return value.toFixed(1) + " h";
    return (value / 24).toFixed(1) + " d";
  }

  // Interpolated percentile, as DuckDB's percentile_cont and pandas' quantile compute it.
  function percentile(values, q) {
    var v = values.slice().sort(function (a, b) { return a - b; });
    if (!v.length) return null;
    var pos = (v.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  }

  function stat(rows, spec) {
    var values = [];
    rows.forEach(function (row) {
      var raw = row.getAttribute("data-" + spec.attr);
      if (raw !== null && raw !== "") values.push(parseFloat(raw));
    });
    if (spec.kind === "sum") {
      return values.reduce(function (a, b) { return a + b; }, 0).toLocaleString("en-US");
    }
    if (spec.kind === "p50") {
      var p = percentile(values, 0.5);
      return p === null ? "—" : hours(p) + " (n = " + values.length + ")";
    }
    if (spec.kind === "share") {
      var yes = values.filter(function (x) { return x === 1; }).length;
      if (!values.length) return "—";
      return (100 * yes / values.length).toFixed(1) + "% (" + yes + " of " + values.length + ")";
    }
    return "";
  }

  function applyTables(state) {
    var tables = document.querySelectorAll("table[data-filter-table]");
    Array.prototype.forEach.call(tables, function (table) {
      var rows = Array.prototype.slice.call(table.tBodies[0].rows);
      var unapplied = {}, shown = [];
      rows.forEach(function (row) {
        var ok = passes(function (k) { return attr(row, k); }, state, unapplied);
        row.hidden = !ok;
        if (ok) shown.push(row);
      });
      var out = table.parentNode.parentNode.querySelector("[data-filter-count]");
      if (!out) return;
      var noun = table.getAttribute("data-noun") || "rows";
      var text = "Showing " + shown.length.toLocaleString("en-US") + " of " +
        rows.length.toLocaleString("en-US") + " " + noun;
      var specs = JSON.parse(table.getAttribute("data-stats") || "[]");
      specs.forEach(function (spec) { text += " · " + spec.label + ": " + stat(shown, spec); });
      var skipped = Object.keys(unapplied);
      if (skipped.length) text += " (the " + skipped.join(" and ") + " filter does not apply here)";
      out.textContent = text + ".";
      out.setAttribute("data-shown", String(shown.length));
    });
  }

  function applyCharts(state) {
    if (typeof Plotly === "undefined") return;
    var charts = document.querySelectorAll(".js-plotly-plot");
    Array.prototype.forEach.call(charts, function (gd) {
      if (!gd.data) return;
      if (!gd._pmOriginal) {
        // Read the drawn (decoded) arrays: plotly.py may ship numbers as base64 typed arrays.
        var full = {};
        (gd._fullData || []).forEach(function (t) { full[t.index] = t; });
        var plain = function (arr) {
          return arr === undefined || arr === null ? undefined : Array.prototype.slice.call(arr);
        };
        gd._pmOriginal = gd.data.map(function (t, i) {
          var f = full[i] || t;
          return { x: plain(f.x), y: plain(f.y), customdata: plain(f.customdata), visible: t.visible };
        });
      }
      var visible = [], xs = [], ys = [], cds = [], indices = [], pointwise = [];
      gd.data.forEach(function (trace, i) {
        var meta = trace.meta || {}, original = gd._pmOriginal[i];
        var get = function (k) { return meta[k] === undefined ? null : String(meta[k]); };
        var on = passes(get, state, null);
        visible.push(on ? (original.visible === undefined ? true : original.visible) : false);
        if (meta.points) {
          var keep = [];
          for (var j = 0; j < (original.x || []).length; j++) {
            var at = function (k) {
              var column = meta.points[k];
              return column === undefined ? null : String(column[j]);
            };
            if (passes(at, state, null)) keep.push(j);
          }
          var pick = function (arr) {
            return arr === undefined ? undefined : keep.map(function (j) { return arr[j]; });
          };
          indices.push(i);
          xs.push(pick(original.x)); ys.push(pick(original.y)); cds.push(pick(original.customdata));
          pointwise.push(true);
        }
      });
      Plotly.restyle(gd, { visible: visible });
      if (indices.length) {
        Plotly.restyle(gd, { x: xs, y: ys, customdata: cds }, indices);
      }
      var axis = gd._fullLayout && gd._fullLayout.xaxis;
      if (axis && axis.type === "date") {
        if (state.from || state.to) {
          var range = axis.range.slice();
          if (state.from) range[0] = state.from;
          if (state.to) range[1] = state.to + " 23:59:59";
          Plotly.relayout(gd, { "xaxis.range": range });
        } else {
          Plotly.relayout(gd, { "xaxis.autorange": true });
        }
      }
    });
  }

  function applyForm(form, state) {
    ["team", "service", "from", "to"].forEach(function (key) {
      var field = form.elements[key];
      if (!field) return;
      if (field.tagName === "SELECT" && state[key] &&
          !Array.prototype.some.call(field.options, function (o) { return o.value === state[key]; })) {
        var option = document.createElement("option");
        option.value = option.textContent = state[key];
        field.appendChild(option);
      }
      field.value = state[key] || "";
    });
    var chips = form.querySelector("[data-filter-extras]");
    if (chips) {
      chips.textContent = "";
      extras(state).forEach(function (key) {
        var chip = document.createElement("a");
        var rest = {};
        Object.keys(state).forEach(function (k) { if (k !== key) rest[k] = state[k]; });
        chip.href = "#" + serialise(rest);
        chip.className = "chip";
        chip.textContent = key + " = " + state[key] + " ✕";
        chip.title = "Remove this filter";
        chips.appendChild(chip);
      });
    }
  }

  function describe(state) {
    var parts = [];
    if (state.team) parts.push("team " + state.team);
    if (state.service) parts.push("service " + state.service);
    if (state.from || state.to) parts.push((state.from || "…") + " to " + (state.to || "…"));
    extras(state).forEach(function (k) { parts.push(k + " " + state[k]); });
    return parts.length ? "Filtered: " + parts.join(", ") + "." : "No filter: every row is shown.";
  }

  var shownOnce = "";

  function apply() {
    var state = parse(window.location.hash);
    var form = document.querySelector("form[data-filters]");
    if (form) applyForm(form, state);
    applyTables(state);
    applyCharts(state);
    var status = document.querySelector("[data-filter-status]");
    if (status) status.textContent = describe(state);
    if (state.show && state.show !== shownOnce) {
      shownOnce = state.show;
      var target = document.getElementById(state.show);
      if (target) {
        var details = target.querySelector("details");
        if (details) details.open = true;
        target.classList.add("target");
        target.scrollIntoView();
      }
    }
    document.documentElement.setAttribute("data-filtered", serialise(state));
  }

  function fromForm(form) {
    var state = parse(window.location.hash);
    ["team", "service", "from", "to"].forEach(function (key) {
      if (form.elements[key]) state[key] = form.elements[key].value;
    });
    return state;
  }

  function setHash(state) {
    var hash = serialise(state);
    try {
      history.replaceState(null, "", hash ? "#" + hash : window.location.pathname);
    } catch (e) {
      window.location.hash = hash;
      return;
    }
    apply();
  }

  function start() {
    var form = document.querySelector("form[data-filters]");
    if (form) {
      form.addEventListener("change", function () { setHash(fromForm(form)); });
      form.addEventListener("submit", function (e) { e.preventDefault(); });
      form.addEventListener("reset", function (e) { e.preventDefault(); shownOnce = ""; setHash({}); });
    }
    window.addEventListener("hashchange", apply);
    apply();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
