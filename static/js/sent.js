/* Sent dashboard — the little behaviour htmx does not cover. */
(function () {
  "use strict";

  // <div data-own-input>: typing inside stays inside (the playground's contact search is its
  // own form, its keystrokes don't re-render the preview). A listener, not an htmx trigger
  // filter: those are evaluated as script, which the Content-Security-Policy forbids.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-own-input]").forEach(function (element) {
      element.addEventListener("input", function (event) { event.stopPropagation(); });
    });
  });

  // Copy buttons: <button data-copy="#element-id">Copy</button>
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text.trim()).then(done);
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
      done();
    }
  });

  // The playground's contact picker: a result button adds a chip holding a hidden input.
  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-pick]");
    var remove = event.target.closest("[data-unpick]");
    if (!pick && !remove) return;
    var box = document.getElementById("picked");
    if (!box) return;
    if (remove) {
      remove.closest(".chip").remove();
    } else if (!box.querySelector('input[value="' + pick.getAttribute("data-pick") + '"]')) {
      var chip = document.createElement("span");
      chip.className = "chip";
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "contact";
      input.value = pick.getAttribute("data-pick");
      var label = pick.getAttribute("data-label");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-unpick", "");
      button.setAttribute("aria-label", "Remove " + label);
      button.textContent = "×";
      chip.append(input, document.createTextNode(label + " "), button);
      box.append(chip);
    }
    box.closest("form").dispatchEvent(new Event("change", { bubbles: true }));
  });

  // A form checked again on the server as it changes (the playground's preview answers
  // `fieldsChecked` with every field's errors as they are now): an error shown next to a
  // field goes once the field is fixed, one still there says what it says now.
  document.addEventListener("fieldsChecked", function (event) {
    var form = document.getElementById(event.detail.form);
    if (!form) return;
    var errors = event.detail.errors || {};
    var checked = event.detail.checked;  // absent: every field was checked
    form.querySelectorAll(".field-error[id$='_error']").forEach(function (shown) {
      var fieldId = shown.id.slice(0, -"_error".length);
      if (checked && checked.indexOf(fieldId) < 0) return;  // not checked this time: as it is
      if (Object.prototype.hasOwnProperty.call(errors, fieldId)) {
        shown.textContent = errors[fieldId];
        return;
      }
      form.querySelectorAll("[aria-describedby~='" + shown.id + "']").forEach(function (control) {
        var rest = control.getAttribute("aria-describedby").split(/\s+/).filter(function (id) {
          return id && id !== shown.id;
        });
        if (rest.length) control.setAttribute("aria-describedby", rest.join(" "));
        else control.removeAttribute("aria-describedby");
        control.removeAttribute("aria-invalid");
      });
      var box = shown.closest(".invalid");
      if (box) box.classList.remove("invalid");
      shown.remove();
    });
    if (!checked && !Object.keys(errors).length) {
      document.querySelectorAll("[data-cleared-when-valid]").forEach(function (notice) { notice.remove(); });
    }
  });

  // A conversation reads from the bottom: keep it there as messages arrive, unless the
  // reader scrolled up to read older ones.
  var chatAtBottom = true;
  function chatToBottom() {
    var box = document.getElementById("chat-scroll");
    if (box && chatAtBottom) box.scrollTop = box.scrollHeight;
  }
  document.addEventListener("scroll", function (event) {
    var box = event.target;
    if (box && box.id === "chat-scroll") {
      chatAtBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    }
  }, true);
  document.addEventListener("DOMContentLoaded", chatToBottom);
  document.addEventListener("htmx:load", chatToBottom);

  // A request htmx could not complete: say so instead of silently doing nothing.
  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403) toast("Your session expired or the form is stale. Reload the page and try again.");
    else if (status === 404) toast("That no longer exists. Reload the page.");
    else toast("Something went wrong (HTTP " + status + "). Try again in a moment.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Sent can't be reached. Check your connection and try again.");
  });
})();
