/**
 * mistype for Roundcube (client side): the compose check, the sender context for the filter,
 * and the confirmation of a send the filter stopped.
 *
 * Both dialogs ("Check the recipients" before a send, "Not sent" after the filter refused one)
 * open with "Go back and fix" focused; Enter and Escape go back. Where a finding has a
 * suggestion, the dialog offers the fix as an action ("Send to c@navy.mil instead"), which
 * rewrites Roundcube's own recipient field and sends. "Send anyway" takes a deliberate click or
 * keystroke.
 *
 * @license MIT OR Apache-2.0
 */
(function () {
  "use strict";
  if (!window.rcmail) return;
  var rc = window.rcmail;
  // At once, so that the mistype browser extension leaves this compose window to the plugin.
  if (/[?&]_action=compose(&|$)/.test(window.location.search)) {
    document.documentElement.setAttribute("data-mistype", "loading");
  }

  /** A label of the plugin; `$name` placeholders are filled from `vars`. */
  function label(name, vars) {
    var text = rc.get_label(name, "mistype");
    Object.keys(vars || {}).forEach(function (k) {
      text = text.split("$" + k).join(vars[k]);
    });
    return text;
  }

  function esc(s) {
    return $("<div>").text(s == null ? "" : String(s)).html();
  }

  function lower(s) {
    return String(s == null ? "" : s).toLowerCase();
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

  /** Closes larry's error box (larry shows an error message as a dialog) if it shows `text`. */
  function closeErrorBox(text) {
    $(".ui-dialog .popupdialog")
      .filter(function () {
        return $(this).text() === text;
      })
      .each(function () {
        // As larry closes it itself, without its fade (the box is gone when this returns).
        if ($(this).dialog("instance")) $(this).dialog("destroy").hide();
      });
  }

  /** Removes a message (by its text) from Roundcube's message area, or larry's error box. */
  function hideMessage(text) {
    if (!text) return;
    var shown = rc.messages && rc.messages[rc.html_identifier(text)];
    if (shown && shown.obj) rc.hide_message(shown.obj);
    closeErrorBox(text);
  }

  /**
   * Runs `run` once the frame that holds the filter's page is gone. Roundcube posts a send into a
   * frame named "savetarget" and removes that frame when its page has loaded; a send posted
   * before then would go into the frame being removed, and be lost.
   */
  function afterFilterPage(run) {
    var frames = $('iframe[name="savetarget"]').toArray();
    var ran = false;
    function go() {
      if (ran || frames.some(function (f) { return f.isConnected; })) return;
      ran = true;
      run();
    }
    frames.forEach(function (f) {
      $(f).one("load error", function () {
        setTimeout(go, 0);
      });
    });
    // The page's load always ends this; should it not, the frame goes rather than the send.
    setTimeout(function () {
      $(frames).remove();
      go();
    }, 5000);
    setTimeout(go, 0);
  }

  /**
   * A Roundcube dialog whose safe action is the default one. Buttons, in tab order: "Go back and
   * fix" (focused; also what Enter on it, Escape and the close button do), the fix (`opts.fix`:
   * {label, run}, when there is one) and "Send anyway" (`opts.send`, when the send may go as
   * written). Each action runs once, after the dialog has closed.
   */
  function safeDialog(opts) {
    var done = false;
    var popup = null;
    function close() {
      var jq = (popup && popup[0].jqref) || $;
      jq(popup[0]).dialog("close");
    }
    function action(run) {
      return function () {
        if (done) return;
        done = true;
        close();
        run();
      };
    }
    var buttons = [{ text: label("goback"), class: "mainaction cancel mistype-goback", click: action(opts.back) }];
    if (opts.fix) buttons.push({ text: opts.fix.label, class: "mistype-fix-send", click: action(opts.fix.run) });
    if (opts.send) {
      buttons.push({
        text: label("sendanyway"),
        // Elastic: the paper plane of its Send button, red when a block finding is being sent.
        class: "mistype-confirm send" + (opts.danger ? " btn btn-danger" : ""),
        click: action(opts.send),
      });
    }
    popup = rc.show_popup_dialog(opts.html, opts.title, buttons, {
      dialogClass: "mistype-rc-dialog " + opts.cls,
      // Room for the fix's label, which names the address; as high as the list needs (elastic
      // fits it to a small screen).
      width: 600,
      noresize: true,
      closeOnEscape: true,
      // Escape and the title bar's close button: go back.
      close: function () {
        $(this).remove();
        if (done) return;
        done = true;
        opts.back();
      },
    });
    // jQuery UI focuses the first button too; say so rather than rely on the order alone.
    popup.parent().find("button.mistype-goback").trigger("focus");
    return popup;
  }

  /**
   * The findings with a suggestion, and the label of the action that sends to the suggestions;
   * null when there is none, or when a recipient has two equally likely suggestions (a tie:
   * army.ml for army.mil or army.nl), which the user picks.
   */
  function suggestedFix(findings) {
    var suggested = findings.filter(function (f) {
      return !!f.suggestion;
    });
    if (suggested.length === 0) return null;
    var meant = {};
    var tie = suggested.some(function (f) {
      var a = lower(f.address);
      if (meant[a] && meant[a] !== f.suggestion) return true;
      meant[a] = f.suggestion;
      return false;
    });
    if (tie) return null;
    return {
      suggested: suggested,
      label:
        suggested.length === 1
          ? label("sendfixed", { address: suggested[0].suggestion })
          : label("sendfixedmany"),
    };
  }

  /**
   * The question after the filter refused a send: the `refused` findings, the filter's line
   * `message` (larry's error box of it closed: this says it all), and `actions` as
   * [safeDialog] takes them (back, fix, send: "Send anyway" only with a `confirm` token).
   */
  function blockedDialog(refused, confirm, message, actions) {
    closeErrorBox(message);
    return safeDialog({
      title: label("blockedtitle"),
      html:
        "<p>" + esc(label("blockedintro")) + "</p>" + listHtml(refused) +
        (confirm ? "<p>" + esc(label("confirmnote")) + "</p>" : ""),
      cls: "mistype-blocked",
      danger: true,
      back: actions.back,
      fix: actions.fix,
      send: actions.send,
    });
  }

  /** The package's URL as import() takes it: absolute (not a bare relative path), ending in "/". */
  function packageBase(url) {
    return new URL(url.replace(/\/?$/, "/"), window.location.href).href;
  }

  /** The findings that refused a send, as the filter's `mistype_blocked` event names them. */
  function refusedOf(verdict) {
    var findings = (verdict && verdict.findings) || [];
    // The findings that refused the send (the filter names them; older filters did not).
    var refusedAddresses = Array.isArray(verdict && verdict.refused) ? verdict.refused.map(lower) : null;
    var refused = findings.filter(function (f) {
      return refusedAddresses ? refusedAddresses.indexOf(lower(f.address)) >= 0 : f.severity === "block";
    });
    return refused.length === 0 ? findings : refused;
  }

  /**
   * Roundcube's "Bounce" (on the message list and a message's view) resends a stored message to
   * the addresses typed in its dialog, with its http_post. The filter answers a refused bounce
   * with the JSON Roundcube reads: its line in the message area, then this plugin's question,
   * whose fix and "Send anyway" post the same bounce again (the fixed one is judged again).
   */
  function startBounce() {
    if (!rc.env.mistype_bounce) return;
    var base = packageBase(rc.env.mistype_bounce.package_url);
    var last = null;
    rc.addEventListener("requestbounce", function (data) {
      last = $.extend({}, data);
      delete last._remote;
      delete last._unlock;
    });
    function bounce(post) {
      rc.http_post("bounce", post, rc.set_busy(true, "sendingmessage"));
    }
    /**
     * `post` with each refused address that has a suggestion fixed in its recipient fields (the
     * package's compose helper, as in the compose window); null if none was there.
     */
    function fixed(compose, post, suggested) {
      var out = $.extend({}, post);
      var changed = false;
      ["_to", "_cc", "_bcc"].forEach(function (k) {
        if (typeof out[k] !== "string") return;
        var v = compose.applySuggestions(out[k], suggested);
        if (v !== out[k]) {
          out[k] = v;
          changed = true;
        }
      });
      return changed ? out : null;
    }
    rc.addEventListener("mistype_blocked", function (verdict) {
      var post = last;
      last = null;
      if (!post) return;
      var refused = refusedOf(verdict);
      var confirm = verdict && verdict.confirm && verdict.confirm.token ? verdict.confirm : null;
      var message = verdict && verdict.message;
      var fix = suggestedFix(refused);
      blockedDialog(refused, confirm, message, {
        // Nothing was sent; the message is where it was, to bounce again.
        back: function () {},
        fix: fix && {
          label: fix.label,
          run: function () {
            hideMessage(message);
            import(base + "compose.js")
              .then(function (compose) {
                var again = fixed(compose, post, fix.suggested);
                if (!again) {
                  rc.display_message(label("fixnotfound"), "error");
                  return;
                }
                bounce(again);
              })
              .catch(function (e) {
                rc.display_message(label("loadfailed") + ": " + (e && e.message ? e.message : e), "error");
              });
          },
        },
        send: confirm
          ? function () {
              hideMessage(message);
              var again = $.extend({}, post);
              again[confirm.field || "_mistype_confirm"] = confirm.token;
              bounce(again);
            }
          : null,
      });
    });
  }

  function start() {
    if (rc.env.action !== "compose" || !rc.env.mistype) return;
    var env = rc.env.mistype;
    var base = packageBase(env.package_url);
    var identities = env.identities || {};
    var controller = null;
    var compose = null;

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

    // Roundcube's recipient fields as the compose package reads and writes them (chips and the
    // form's textarea on elastic, the textarea on larry).
    function recipientFields() {
      return compose ? compose.adapters.roundcube.fields(document) : [];
    }
    function entryAddress(entry) {
      return lower(compose.addressOf(entry.value));
    }

    /**
     * Replaces each recipient that `findings` name and have a suggestion for with the suggestion,
     * in Roundcube's own field (what it will submit). Returns the new entries.
     */
    function fixRecipients(findings) {
      var byAddress = {};
      findings.forEach(function (f) {
        if (f.suggestion) byAddress[lower(f.address)] = f;
      });
      var fixed = [];
      recipientFields().forEach(function (field) {
        // Entries are read afresh after each change: a rewrite rebuilds the chips.
        for (var n = 0; n < 100; n++) {
          var hit = null;
          field.entries().some(function (entry) {
            var f = byAddress[entryAddress(entry)];
            if (f) hit = { entry: entry, finding: f };
            return !!f;
          });
          if (!hit) break;
          var value = compose.applySuggestion(hit.entry.value, hit.finding);
          if (!field.replace(hit.entry, value, hit.finding)) break;
          fixed.push(value);
        }
      });
      if (controller) controller.lint();
      return fixed;
    }

    /** Keyboard focus into the first field holding one of `findings` (or the first field). */
    function focusField(findings) {
      var wanted = {};
      findings.forEach(function (f) {
        wanted[lower(f.address)] = true;
      });
      var fields = recipientFields();
      var field =
        fields.filter(function (f) {
          return f.entries().some(function (e) {
            return wanted[entryAddress(e)];
          });
        })[0] || fields[0];
      var node = field && (field.focusNode ? field.focusNode() : field.node);
      if (node && node.focus) node.focus();
    }

    /**
     * The dialog's fix action, when a finding has a suggestion: rewrite, then send. None when a
     * recipient has two equally likely suggestions (a tie: army.ml for army.mil or army.nl): the
     * user picks one in the field's notes.
     */
    function fixAction(findings, before) {
      var fix = suggestedFix(findings);
      if (!fix) return null;
      return {
        label: fix.label,
        run: function () {
          if (before) before();
          if (fixRecipients(fix.suggested).length === 0) {
            // Nothing to rewrite (the field changed under the dialog): back to it, never a send.
            rc.display_message(label("fixnotfound"), "error");
            focusField(findings);
            return;
          }
          // The compose check runs again on the fixed recipients before anything leaves.
          rc.command("send", {});
        },
      };
    }

    // What the user confirmed for the send under way: a set of lower-case addresses, kept from
    // the confirming "Send anyway" to the filter's answer to that send. A token from the filter
    // is for one recipient set; any later send without a fresh confirmation goes without it.
    var confirmedNext = null;
    var confirmedSent = null;
    var confirmField = null;
    var withToken = false;
    rc.addEventListener("beforesend", function () {
      confirmedSent = confirmedNext;
      confirmedNext = null;
      if (withToken) {
        withToken = false;
        return;
      }
      if (confirmField) confirmField.value = "";
    });

    function sendWithToken(confirm) {
      confirmField = hidden(confirm.field || "_mistype_confirm");
      confirmField.value = confirm.token;
      withToken = true;
      if (controller) controller.skipNextCheck();
      rc.command("send", {});
    }

    // The filter stopped the send: its page called this through parent.rcmail, after showing
    // its message ("Not sent, mistype stopped it. ...") in the message area.
    rc.addEventListener("mistype_blocked", function (verdict) {
      var confirm = verdict && verdict.confirm && verdict.confirm.token ? verdict.confirm : null;
      var message = verdict && verdict.message;
      var refused = refusedOf(verdict);
      var confirmed = confirmedSent;
      confirmedSent = null;

      // The user has just confirmed every recipient the filter refused: send again with the
      // filter's token (it binds this recipient set), without asking a second time.
      if (
        confirm &&
        confirmed &&
        refused.length > 0 &&
        refused.every(function (f) {
          return confirmed[lower(f.address)];
        })
      ) {
        afterFilterPage(function () {
          hideMessage(message);
          sendWithToken(confirm);
        });
        return;
      }

      blockedDialog(refused, confirm, message, {
        back: function () {
          focusField(refused);
        },
        fix: fixAction(refused, function () {
          hideMessage(message);
        }),
        send: confirm
          ? function () {
              hideMessage(message);
              sendWithToken(confirm);
            }
          : null,
      });
    });

    Promise.all([import(base + "mistype_web_lint.js"), import(base + "compose.js")])
      .then(function (mods) {
        var web = mods[0];
        compose = mods[1];
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
          // The findings line shown in Roundcube's message area (escaped), while it is current.
          var shown = "";
          controller = compose.attachCompose(document, linter, {
            adapter: "roundcube",
            askOn: env.ask_on === "block" ? "block" : "warn",
            from: function () {
              return identityAddress() || compose.adapters.roundcube.from(document);
            },
            onFindings: function (state, messages) {
              // The findings also in Roundcube's own message area; a line that no longer holds
              // (the recipient was fixed or removed) goes at once.
              var text = messages.length ? esc(messages.join(" ")) : "";
              if (text === shown) return;
              hideMessage(shown);
              // A warning, not an error: larry shows errors as a box over the compose window.
              if (text) rc.display_message(text, "warning", 8000);
              shown = text;
            },
            confirm: function (asked, how) {
              var findings = asked.map(function (x) {
                return x.finding;
              });
              safeDialog({
                title: label("checktitle"),
                html: "<p>" + esc(label("checkintro")) + "</p>" + listHtml(findings),
                cls: "mistype-check",
                danger: findings.some(function (f) {
                  return f.severity === "block";
                }),
                back: how.cancel,
                fix: fixAction(findings),
                send: function () {
                  var set = {};
                  findings.forEach(function (f) {
                    set[lower(f.address)] = true;
                  });
                  confirmedNext = set;
                  how.proceed();
                },
              });
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
  rc.addEventListener("init", startBounce);
})();
