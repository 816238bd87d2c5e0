// My Timesheets (web/templates/web/timesheets/week.html): each cell of the week grid saves as it is left
// (blur or Enter) through POST /timesheets/week/cell/, which answers the cell and the row's, day's and week's
// totals as JSON, or {"error": message}. Enter saves and moves down to the next row's same day; Escape puts
// back the cell's saved value. Without this script the grid is one form: Enter or Save sends every cell changed.
(function () {
  "use strict";

  var form = document.getElementById("week-grid");
  if (!form) return;
  var url = form.dataset.cellUrl;
  var status = document.getElementById("week-status");
  // Its words, in the page's language: data-text-* of the grid's form (web/templates/web/timesheets/week.html).
  var said = {
    noAnswer: form.dataset.textNoAnswer || "The server did not answer: try again.",
    unreachable: form.dataset.textUnreachable || "Not saved: the server could not be reached. Try again."
  };

  function cellOf(input) { return input.closest("td"); }

  function say(text) { if (status) status.textContent = text; }

  function show(input, state, message) {
    var td = cellOf(input);
    var error = document.getElementById(input.id + "-error");
    td.classList.remove("saving", "saved", "failed", "refused");
    if (state) td.classList.add(state);
    input.setAttribute("aria-busy", state === "saving" ? "true" : "false");
    if (state === "failed") input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    if (error) {
      error.textContent = state === "failed" ? message : "";
      error.hidden = state !== "failed";
    }
  }

  // The hidden "was:" field the form sends beside the cell: what the cell now holds, for a later Save.
  function remember(input, text) {
    input.dataset.was = text;
    var name = "was:" + input.name.slice("cell:".length);
    var was = form.querySelector("input[type=hidden][name='" + name + "']");
    if (!text) { if (was) was.remove(); return; }
    if (!was) {
      was = document.createElement("input");
      was.type = "hidden";
      was.name = name;
      input.after(was);
    }
    was.value = text;
  }

  function total(selector, text) {
    var el = form.querySelector(selector);
    if (el) el.textContent = text;
  }

  function save(input) {
    var text = input.value.trim();
    if (text === (input.dataset.was || "") || text === input.dataset.sending) return;
    input.dataset.sending = text;
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.elements.namedItem("csrfmiddlewaretoken").value);
    body.append("row", input.dataset.row);
    body.append("date", input.dataset.date);
    body.append("duration", text);
    if (form.dataset.agent) body.append("agent", form.dataset.agent);
    show(input, "saving");
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return { error: said.noAnswer }; });
      })
      .then(function (data) {
        delete input.dataset.sending;
        if (data.error !== undefined) {
          show(input, "failed", data.error);
          say(data.error);
          return;
        }
        if (input.value.trim() === text) input.value = data.duration;
        remember(input, data.duration);
        total("tr[data-row='" + data.row + "'] [data-total=row]", data.totals.row);
        total("tfoot [data-total=day][data-date='" + data.date + "']", data.totals.day);
        total("#week-total", data.totals.week);
        show(input, "saved");
        say(data.message);
      })
      .catch(function () {
        delete input.dataset.sending;
        show(input, "failed", said.unreachable);
      });
  }

  // The same day's cell in the next row that takes input (read-only cells are skipped).
  function below(input) {
    var row = input.closest("tr").nextElementSibling;
    for (; row; row = row.nextElementSibling) {
      var next = row.querySelector("input.cell-input[data-date='" + input.dataset.date + "']");
      if (next) return next;
    }
    return null;
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("input.cell-input")) save(event.target);
  });

  form.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches("input.cell-input")) return;
    if (event.key === "Enter") {
      event.preventDefault(); // the cell saves alone; the form's Save is for the grid without this script
      save(input);
      var next = below(input);
      if (next) { next.focus(); next.select(); }
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.value = input.dataset.was || "";
      show(input, "");
    }
  });

  // Save saves each cell changed the same way, so that a cell left by clicking Save is not sent twice at once.
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.querySelectorAll("input.cell-input").forEach(save);
  });

  form.addEventListener("focusin", function (event) {
    if (event.target.matches("input.cell-input")) event.target.select();
  });
})();
