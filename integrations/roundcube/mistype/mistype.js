/**
 * mistype for Roundcube (client side): the compose check, the sender context for the filter,
 * and the confirmation of a send the filter stopped.
 *
 * @license MIT OR Apache-2.0
 */
(function () {
  "use strict";
  if (!window.rcmail) return;
  var rc = window.rcmail;
  // At once, so that the mistype browser extension leaves this page to the plugin.
  document.documentElement.setAttribute("data-mistype", "loading");

  function label(name) {
    return rc.get_label(name, "mistype");
  }

  function esc(s) {
    return $("<div>").text(s == null ? "" : String(s)).html();
  }

  /** "address (did you mean x?) reason" items for a dialog. */
  function listHtml(findings) {
    return (
      '<ul class="mistype-list">' +
      findings
        .map(function (f) {
          return (
            "<li><code>" + esc(f.address) + "</code>" +
            (f.suggestion ? " (" + esc(label("didyoumean")) + " <code>" + esc(f.suggestion) + "</code>?)" : "") +
            (f.reason ? '<span class="mistype-dialog-reason">' + esc(f.reason) + "</span>" : "") +
            "</li>"
          );
        })
        .join("") +
      "</ul>"
    );
  }

  /** A hidden input of the compose form, created on first use. */
  function hidden(name) {
    var form = rc.gui_objects.messageform;
    if (!form) return null;
    var input = form.elements.namedItem(name);
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    return input;
  }

  function start() {
    if (rc.env.action !== "compose" || !rc.env.mistype) return;
    var env = rc.env.mistype;
    // An absolute URL: import() does not take a bare relative path.
    var base = new URL(env.package_url.replace(/\/?$/, "/"), window.location.href).href;
    var identities = env.identities || {};
    var controller = null;

    // The identity's address for the filter (`_from` is an identity id, never an address).
    var fromInput = hidden(env.from_field || "_mistype_from");
    function identityAddress() {
      var sel = document.querySelector('[name="_from"]');
      var id = sel ? sel.value : "";
      return identities[id] || null;
    }
    function syncFrom() {
      if (fromInput) fromInput.value = identityAddress() || "";
    }
    syncFrom();
    $('[name="_from"]').on("change", function () {
      syncFrom();
      if (controller) controller.lint();
    });

    // A token from the filter is for one recipient set; any later send without a fresh
    // confirmation goes without it.
    var confirmField = null;
    var confirming = false;
    rc.addEventListener("beforesend", function () {
      if (confirming) {
        confirming = false;
        return;
      }
      if (confirmField) confirmField.value = "";
    });

    // The filter stopped the send: its page called this through parent.rcmail.
    rc.addEventListener("mistype_blocked", function (verdict) {
      var findings = (verdict && verdict.findings) || [];
      var confirm = verdict && verdict.confirm;
      var html =
        "<p>" + esc(label("blockedintro")) + "</p>" + listHtml(findings) +
        (confirm && confirm.token ? "<p>" + esc(label("confirmnote")) + "</p>" : "");
      var dialog = rc.simple_dialog(
        html,
        label("blockedtitle"),
        confirm && confirm.token
          ? function () {
              confirmField = hidden(confirm.field || "_mistype_confirm");
              confirmField.value = confirm.token;
              confirming = true;
              if (controller) controller.skipNextCheck();
              rc.command("send", {});
              return true;
            }
          : null,
        { button: "mistype.sendanyway", button_class: "mistype-confirm send", cancel_button: "mistype.goback" }
      );
      if (dialog && dialog.addClass) dialog.addClass("mistype-blocked");
    });

    Promise.all([import(base + "mistype_web_lint.js"), import(base + "compose.js")])
      .then(function (mods) {
        var web = mods[0];
        var compose = mods[1];
        return Promise.all([
          web.default(),
          env.policy_url
            ? fetch(env.policy_url, { credentials: "same-origin" }).then(function (r) {
                if (!r.ok) throw new Error("mistype_policy_url: HTTP " + r.status + " from " + env.policy_url);
                return r.text();
              })
            : env.policy,
        ]).then(function (res) {
          var linter = new web.Linter(res[1] || null);
          var shown = "";
          controller = compose.attachCompose(document, linter, {
            adapter: "roundcube",
            askOn: env.ask_on === "block" ? "block" : "warn",
            from: function () {
              return identityAddress() || compose.adapters.roundcube.from(document);
            },
            onFindings: function (state, messages) {
              // New findings also in Roundcube's own message area.
              var key = messages.join(" ");
              if (key && key !== shown) {
                // A warning, not an error: larry shows errors as a box over the compose window.
                rc.display_message(key, "warning", 8000);
              }
              shown = key;
            },
            confirm: function (asked, how) {
              var sent = false;
              var block = asked.some(function (x) {
                return x.finding.severity === "block";
              });
              rc.simple_dialog(
                "<p>" + esc(label("checkintro")) + "</p>" +
                  listHtml(asked.map(function (x) { return x.finding; })),
                label("checktitle"),
                function () {
                  sent = true;
                  how.proceed();
                  return true;
                },
                {
                  button: "mistype.sendanyway",
                  button_class: "mistype-confirm send" + (block ? " delete" : ""),
                  cancel_button: "mistype.goback",
                  cancel_func: function () {
                    if (!sent) how.cancel();
                  },
                }
              );
            },
          });
          window.mistypeCompose = controller;
          document.documentElement.setAttribute("data-mistype", "ready");
        });
      })
      .catch(function (e) {
        document.documentElement.setAttribute("data-mistype", "failed");
        rc.display_message(label("loadfailed") + ": " + (e && e.message ? e.message : e), "error");
      });
  }

  rc.addEventListener("init", start);
})();
