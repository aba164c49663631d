/* Boxset pages: small behaviours on top of the JSON API. Every action goes through /api with
   the session cookie and the CSRF header; what to show comes from the server's answers. */
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  function csrfToken() {
    return csrfMeta ? csrfMeta.getAttribute("content") : "";
  }

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrfToken();
    }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) {
        return { ok: true, status: 204, body: null };
      }
      return response.json().then(
        function (json) { return { ok: response.ok, status: response.status, body: json }; },
        function () { return { ok: response.ok, status: response.status, body: null }; }
      );
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function when(value) {
    if (!value) { return "—"; }
    var date = new Date(value);
    return isNaN(date) ? value : date.toLocaleString();
  }

  function message(body) {
    if (!body) { return "Something went wrong."; }
    if (typeof body.message === "string") { return body.message; }
    if (body.message && typeof body.message === "object") {
      return Object.keys(body.message).map(function (field) {
        var value = body.message[field];
        return field + ": " + (Array.isArray(value) ? value.join(" ") : JSON.stringify(value));
      }).join("; ");
    }
    return "Something went wrong.";
  }

  function show(box, text, kind) {
    if (!box) { return; }
    box.textContent = text;
    box.className = "alert alert-" + (kind || "danger");
  }

  function hide(box) {
    if (box) { box.className = "alert hidden"; box.textContent = ""; }
  }

  function formData(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.type === "submit" || input.type === "button") { return; }
      if (input.type === "radio" && !input.checked) { return; }
      data[input.name] = input.value;
    });
    return data;
  }

  function fill(tbody, rows, empty, columns) {
    tbody.textContent = "";
    if (!rows.length) {
      tbody.appendChild(el("tr", {}, [el("td", { colspan: String(columns), className: "text-muted", text: empty })]));
    }
    rows.forEach(function (row) { tbody.appendChild(row); });
  }

  function button(label, kind, onClick, attrs) {
    var node = el("button", Object.assign({ type: "button", className: "btn btn-xs btn-" + kind, text: label }, attrs || {}));
    node.addEventListener("click", onClick);
    return node;
  }

  // --- navigation: space switcher -----------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("[data-select-space]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      api("POST", "/api/spaces/" + link.getAttribute("data-select-space") + "/select").then(function (result) {
        if (result.ok) { window.location.assign("/"); }
      });
    });
  });

  var page = document.querySelector("[data-page]");
  var name = page ? page.getAttribute("data-page") : null;
  var pages = {};

  // --- integrations (space admins) ------------------------------------------------------------
  pages.integrations = function () {
    var form = document.getElementById("integrations-form");
    var errors = form.querySelector("[data-errors]");
    var base = "/api/admin/settings/integrations";
    var query = "?space_id=" + encodeURIComponent(page.getAttribute("data-space-id"));
    var plain = ["tmdb_api_url", "barcode_preset", "barcode_api_url", "vision_api_url", "plex_api_url"];
    var secrets = ["tmdb_api_key", "barcode_api_key", "vision_api_key", "plex_api_token"];
    var changes = {};
    var saved = { plex_sections: [], decrypt_health: { failed: [] } };
    var discovered = [];

    function markDirty() {
      var count = Object.keys(changes).length;
      document.getElementById("integrations-dirty").textContent = count ? count + " unsaved change(s)" : "";
    }

    function secretText(name, state) {
      if (saved.decrypt_health.failed.indexOf(name) !== -1) {
        return "Stored, but it can no longer be decrypted: enter it again or clear it.";
      }
      if (!state || !state.set) { return "Not set."; }
      var from = state.source === "space" ? "this space" : "the server's environment";
      return "Set" + (state.last4 ? " (ends in …" + state.last4 + ")" : "") + ", from " + from + ".";
    }

    function sectionRows() {
      var chosen = (changes.plex_sections || saved.plex_sections || []);
      var keys = chosen.map(function (s) { return s.key; });
      var all = chosen.concat(discovered.filter(function (s) { return keys.indexOf(String(s.key)) === -1; }));
      var rows = all.map(function (s) {
        var box = el("input", { type: "checkbox", "data-section-key": String(s.key) });
        box.checked = keys.indexOf(String(s.key)) !== -1;
        box.addEventListener("change", function () {
          changes.plex_sections = all.filter(function (x) {
            var input = form.querySelector('[data-section-key="' + String(x.key) + '"]');
            return input && input.checked;
          }).map(function (x) { return { key: String(x.key), title: x.title, type: x.type }; });
          markDirty();
        });
        return el("tr", {}, [el("td", {}, [box]), el("td", { text: s.title }), el("td", { text: s.type }), el("td", { text: String(s.key) })]);
      });
      fill(document.getElementById("plex-sections"), rows, "None saved; Test lists the server's sections.", 4);
    }

    function render(result) {
      saved = result;
      changes = {};
      plain.forEach(function (key) {
        var input = document.getElementById(key);
        input.value = result[key] || (key === "barcode_preset" ? "upcitemdb" : "");
        if (key !== "barcode_preset") { input.placeholder = "not set"; }
      });
      secrets.forEach(function (key) {
        document.getElementById(key).value = "";
        form.querySelector('[data-secret="' + key + '"] [data-secret-state]').textContent = secretText(key, result[key]);
      });
      var health = document.getElementById("decrypt-health");
      health.querySelector("[data-failed]").textContent = result.decrypt_health.failed.join(", ");
      health.classList.toggle("hidden", result.decrypt_health.ok);
      sectionRows();
      markDirty();
    }

    function load() {
      api("GET", base + query).then(function (result) {
        if (result.ok) { render(result.body.result); } else { show(errors, message(result.body)); }
      });
    }

    plain.forEach(function (key) {
      document.getElementById(key).addEventListener("input", function (event) {
        changes[key] = event.target.value.trim() || null;
        markDirty();
      });
    });
    secrets.forEach(function (key) {
      document.getElementById(key).addEventListener("input", function (event) {
        if (event.target.value.trim()) { changes[key] = event.target.value.trim(); } else { delete changes[key]; }
        markDirty();
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-reset]"), function (node) {
      node.addEventListener("click", function () {
        var key = node.getAttribute("data-reset");
        changes[key] = null;
        document.getElementById(key).value = "";
        document.getElementById(key).placeholder = "server default (after saving)";
        markDirty();
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-clear]"), function (node) {
      node.addEventListener("click", function () {
        var key = node.getAttribute("data-clear");
        changes[key] = null;
        document.getElementById(key).value = "";
        form.querySelector('[data-secret="' + key + '"] [data-secret-state]').textContent = "Will be cleared when you save.";
        markDirty();
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-test]"), function (node) {
      node.addEventListener("click", function () {
        var provider = node.getAttribute("data-test");
        var box = form.querySelector('[data-test-result="' + provider + '"]');
        if (Object.keys(changes).length) { show(box, "Save your changes first: Test uses the saved settings.", "warning"); return; }
        show(box, "Testing…", "info");
        node.disabled = true;
        api("POST", base + "/test-" + provider + query).then(function (result) {
          node.disabled = false;
          var r = result.body && result.body.result;
          if (!result.ok || !r) { show(box, message(result.body), "danger"); return; }
          var text = (r.ok ? "Works" : r.authenticated === false ? "The key was refused" : "Failed") +
            (r.status ? " (HTTP " + r.status + ")" : "") + (r.detail ? ": " + r.detail : ".");
          show(box, text, r.ok ? "success" : "danger");
          if (provider === "plex" && r.sections) { discovered = r.sections; sectionRows(); }
        });
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!Object.keys(changes).length) { show(errors, "Nothing to save.", "info"); return; }
      api("PUT", base + query, changes).then(function (result) {
        if (result.ok) { render(result.body.result); show(errors, "Saved.", "success"); } else { show(errors, message(result.body)); }
      });
    });
    load();
  };

  // --- feature flags (instance Admin) ---------------------------------------------------------
  pages.flags = function () {
    var errors = page.querySelector("[data-errors]");

    function toggle(flag) {
      var enabled = !flag.stored_enabled;
      if (!enabled && !window.confirm("Turn off for everyone: " + flag.description)) { return; }
      api("PATCH", "/api/admin/feature-flags/" + encodeURIComponent(flag.key), { enabled: enabled }).then(function (result) {
        if (result.ok) { hide(errors); } else { show(errors, message(result.body)); }
        load();
      });
    }

    function load() {
      api("GET", "/api/admin/feature-flags").then(function (result) {
        if (!result.ok) { show(errors, message(result.body)); return; }
        var readOnly = result.body.read_only;
        document.getElementById("flags-read-only").classList.toggle("hidden", !readOnly);
        var rows = result.body.result.map(function (f) {
          var forced = f.env_override !== null;
          var action = button(f.stored_enabled ? "Turn off" : "Turn on", f.stored_enabled ? "warning" : "success",
            function () { toggle(f); }, { "data-flag": f.key });
          if (readOnly || forced) { action.disabled = true; }
          return el("tr", { "data-flag-row": f.key }, [
            el("td", {}, [el("strong", { text: f.description }), el("br"), el("code", { text: f.key })]),
            el("td", {}, [el("span", { className: "label label-" + (f.enabled ? "success" : "default"), text: f.enabled ? "on" : "off" })]),
            el("td", { text: forced ? "forced " + (f.env_override ? "on" : "off") + " (FEATURE_FLAG_" + f.key.toUpperCase() + ")" : "—" }),
            el("td", { text: f.updated_at ? when(f.updated_at) + (f.updated_by_email ? " by " + f.updated_by_email : "") : "never" }),
            el("td", {}, [action])
          ]);
        });
        fill(document.getElementById("flags-body"), rows, "No flags.", 5);
      });
    }
    load();
  };

  // --- register -------------------------------------------------------------------------------
  pages.register = function () {
    var form = document.getElementById("register-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = formData(form);
      if (!data.invite_token) { delete data.invite_token; }
      api("POST", "/api/auth/register", data).then(function (result) {
        if (result.ok) { window.location.assign("/"); }
        else { show(form.querySelector("[data-errors]"), message(result.body)); }
      });
    });
  };

  // --- join with an existing account -----------------------------------------------------------
  pages.join = function () {
    var form = document.getElementById("join-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/api/auth/invites/accept", formData(form)).then(function (result) {
        if (result.ok) { window.location.assign("/"); }
        else { show(form.querySelector("[data-errors]"), message(result.body)); }
      });
    });
  };

  // --- profile --------------------------------------------------------------------------------
  pages.profile = function () {
    var profileForm = document.getElementById("profile-form");
    profileForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("PATCH", "/api/auth/profile", formData(profileForm)).then(function (result) {
        show(profileForm.querySelector("[data-errors]"), result.ok ? "Saved." : message(result.body), result.ok ? "success" : "danger");
      });
    });
    var passwordForm = document.getElementById("password-form");
    passwordForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("PATCH", "/api/auth/profile", formData(passwordForm)).then(function (result) {
        show(passwordForm.querySelector("[data-errors]"),
             result.ok ? "Password changed; your other sessions were signed out." : message(result.body),
             result.ok ? "success" : "danger");
        if (result.ok) { passwordForm.reset(); loadSessions(); }
      });
    });

    function loadSessions() {
      api("GET", "/api/auth/sessions").then(function (result) {
        var rows = (result.body && result.body.result || []).map(function (s) {
          return el("tr", {}, [
            el("td", { text: when(s.created_at) }), el("td", { text: when(s.last_seen_at) }),
            el("td", { text: (s.ip || "") + " " + (s.user_agent || "").slice(0, 40) }),
            el("td", {}, [s.current ? el("span", { className: "label label-success", text: "this browser" })
              : button("Sign out", "default", function () {
                api("DELETE", "/api/auth/sessions/" + s.id).then(loadSessions);
              })])
          ]);
        });
        fill(document.getElementById("sessions-body"), rows, "No sessions.", 4);
      });
    }

    function loadKeys() {
      api("GET", "/api/auth/api-keys").then(function (result) {
        var rows = (result.body && result.body.result || []).map(function (k) {
          return el("tr", {}, [
            el("td", { text: k.name }), el("td", { text: when(k.created_at) }), el("td", { text: when(k.last_used_at) }),
            el("td", {}, [button("Revoke", "danger", function () {
              api("DELETE", "/api/auth/api-keys/" + k.id).then(loadKeys);
            })])
          ]);
        });
        fill(document.getElementById("api-keys-body"), rows, "No API keys.", 4);
      });
    }

    var keyForm = document.getElementById("api-key-form");
    keyForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/api/auth/api-keys", formData(keyForm)).then(function (result) {
        var box = document.getElementById("new-key");
        if (result.ok) {
          show(box, "Copy this key now; it will not be shown again: " + result.body.result.key, "success");
          keyForm.reset();
          loadKeys();
        } else { show(box, message(result.body)); }
      });
    });
    loadSessions();
    loadKeys();
  };

  // --- spaces ---------------------------------------------------------------------------------
  pages.spaces = function () {
    function load() {
      api("GET", "/api/spaces").then(function (result) {
        var rows = (result.body && result.body.result || []).map(function (s) {
          var actions = [button("Switch to", "primary", function () {
            api("POST", "/api/spaces/" + s.id + "/select").then(function () { window.location.assign("/"); });
          })];
          if (s.role === "owner") {
            actions.push(button("Delete…", "danger", function () {
              var typed = window.prompt("Type the space's name, " + s.name + ", to delete it and everything in it.");
              if (typed === null) { return; }
              api("DELETE", "/api/spaces/" + s.id, { confirm_name: typed }).then(function (r) {
                if (r.ok) { window.location.assign("/spaces"); } else { window.alert(message(r.body)); }
              });
            }));
          } else {
            actions.push(button("Leave", "default", function () {
              api("GET", "/api/auth/me").then(function (me) {
                api("DELETE", "/api/spaces/" + s.id + "/members/" + me.body.result.id).then(function (r) {
                  if (r.ok) { window.location.assign("/spaces"); } else { window.alert(message(r.body)); }
                });
              });
            }));
          }
          return el("tr", {}, [el("td", { text: s.name }), el("td", { text: s.role }), el("td", {}, actions)]);
        });
        fill(document.getElementById("spaces-body"), rows, "You are not in any space yet.", 3);
      });
    }
    var form = document.getElementById("space-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/api/spaces", formData(form)).then(function (result) {
        if (result.ok) {
          api("POST", "/api/spaces/" + result.body.id + "/select").then(function () { window.location.assign("/spaces"); });
        } else { show(page.querySelector("[data-errors]"), message(result.body)); }
      });
    });
    load();
  };

  // --- library page ---------------------------------------------------------------------------
  var FILTERS = ["genre", "director", "actor", "year_min", "year_max", "rating_min", "rating_max", "format", "resolution"];
  var TYPE_LABELS = { movie: "Movie", tv_series: "TV series", tv_episode: "TV episode", other: "Other" };

  var RESOLUTION_LABELS = { sd: "SD", "720p": "720p", "1080p": "1080p", "4k": "4K" };
  var TYPE_ICONS = { movie: "fa-film", tv_series: "fa-television", tv_episode: "fa-television", other: "fa-archive" };

  function focusables(root) {
    return Array.prototype.filter.call(
      root.querySelectorAll("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex='0']"),
      function (node) { return node.offsetParent !== null; }
    );
  }

  function openDialog(dialog) {
    hide(dialog.querySelector("[data-errors]"));
    dialog.boxsetOpener = document.activeElement;
    dialog.classList.remove("hidden");
    var scroller = dialog.querySelector(".boxset-wide-body");
    if (scroller) { scroller.scrollTop = 0; }
    var first = dialog.querySelector("[data-autofocus]") || focusables(dialog)[0];
    if (first) { first.focus(); }
  }

  function closeDialog(dialog) {
    dialog.classList.add("hidden");
    var opener = dialog.boxsetOpener;
    dialog.boxsetOpener = null;
    if (opener && opener.focus && document.body.contains(opener) && opener.offsetParent !== null) { opener.focus(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll(".boxset-dialog"), function (dialog) {
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closeDialog(dialog); return; }
      if (event.key !== "Tab") { return; }
      var nodes = focusables(dialog);  // keep the focus inside the open dialog
      if (!nodes.length) { return; }
      var first = nodes[0];
      var last = nodes[nodes.length - 1];
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    });
  });

  pages.library = function () {
    var libraryId = Number(page.getAttribute("data-library-id"));
    var userId = Number(page.getAttribute("data-user-id"));
    var canEditAll = page.getAttribute("data-can-edit-all") === "true";
    var canAdd = page.getAttribute("data-can-add") === "true";
    api("POST", "/api/libraries/select", { library_id: libraryId });
    var form = document.getElementById("browse-form");
    var panel = document.getElementById("filter-panel");
    var grid = document.getElementById("browse-items");
    var empty = document.getElementById("browse-empty");
    var loading = document.getElementById("browse-loading");
    var sentinel = document.getElementById("browse-more");
    var drawer = document.getElementById("media-drawer");
    var itemDialog = document.getElementById("item-dialog");
    var itemForm = document.getElementById("item-form");
    var deleteDialog = document.getElementById("delete-item-dialog");
    var cursor = null;
    var busy = false;
    var done = false;
    var generation = 0;
    var current = null;  // the item shown in the drawer
    var editing = null;  // the item being edited, null when adding

    var viewButtons = form.querySelectorAll("[data-view]");
    function setView(view) {
      grid.setAttribute("data-view", view);
      Array.prototype.forEach.call(viewButtons, function (b) {
        var on = b.getAttribute("data-view") === view;
        b.classList.toggle("active", on);
        b.setAttribute("aria-pressed", String(on));
      });
      try { window.localStorage.setItem("boxset.view", view); } catch (e) { /* private mode */ }
    }
    var saved = null;
    try { saved = window.localStorage.getItem("boxset.view"); } catch (e) { saved = null; }
    setView(saved === "list" ? "list" : "grid");
    Array.prototype.forEach.call(viewButtons, function (b) {
      b.addEventListener("click", function () { setView(b.getAttribute("data-view")); });
    });

    function typeLabel(item) { return item.media_type === "movie" ? null : TYPE_LABELS[item.media_type]; }
    var BADGES = { tv_series: "TV", tv_episode: "Episode", other: "Other" };

    function card(item) {
      var poster = el("div", { className: "poster" }, [
        el("span", { className: "fa " + (TYPE_ICONS[item.media_type] || "fa-film"), "aria-hidden": "true" }),
        el("span", { className: "poster-title", text: item.title })
      ]);
      if (item.thumb_url) {
        poster.textContent = "";
        poster.appendChild(el("img", { src: item.thumb_url, alt: "", loading: "lazy" }));
      }
      if (BADGES[item.media_type]) { poster.setAttribute("data-badge", BADGES[item.media_type]); }
      var details = [item.year, item.format, typeLabel(item)].filter(function (x) { return x; }).join(" · ");
      var rating = item.user_rating !== null && item.user_rating !== undefined ? item.user_rating : item.rating;
      var node = el("div", {
        className: "boxset-card", "data-media-id": String(item.id), role: "button", tabindex: "0", title: item.title,
        "aria-label": item.title + (details ? ", " + details : "")
      }, [poster, el("div", { className: "meta" }, [
        el("strong", { text: item.title }),
        el("span", { className: "details", text: details || "\u00a0" }),
        el("span", { className: "genres", text: (item.genres || []).join(", ") }),
        el("span", { className: "rating" }, rating === null || rating === undefined ? [] : [
          el("span", { className: "fa fa-star", "aria-hidden": "true" }), " " + Number(rating).toFixed(1)
        ])
      ])]);
      node.addEventListener("click", function () { openDrawer(item.id); });
      node.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openDrawer(item.id); }
      });
      return node;
    }

    function activeFilters(data) {
      return FILTERS.filter(function (key) { return data[key] !== undefined && data[key] !== ""; });
    }

    function query() {
      var data = formData(form);
      var sort = (data.sort || "title:asc").split(":");
      var params = ["library_id=" + libraryId, "limit=60", "sort_by=" + sort[0], "sort_dir=" + sort[1]];
      if (data.search) { params.push("search=" + encodeURIComponent(data.search)); }
      if (data.media_type) { params.push("media_type=" + data.media_type); }
      activeFilters(data).forEach(function (key) { params.push(key + "=" + encodeURIComponent(data[key])); });
      if (cursor) { params.push("cursor=" + encodeURIComponent(cursor)); }
      return "/api/media?" + params.join("&");
    }

    function showEmpty(count) {
      var data = formData(form);
      var filtered = Boolean(data.search || data.media_type || activeFilters(data).length);
      empty.classList.toggle("hidden", count !== 0);
      empty.querySelector("[data-empty-filtered]").classList.toggle("hidden", !filtered);
      var first = empty.querySelector("[data-empty-library]");
      if (first) { first.classList.toggle("hidden", filtered); }
      empty.querySelector(".boxset-empty-title").textContent = filtered ? "Nothing found." : "Nothing here yet.";
      empty.querySelector(".boxset-empty-icon").className = "fa boxset-empty-icon " + (filtered ? "fa-search" : "fa-film");
    }

    function stopLoading() {
      loading.classList.add("hidden");
      grid.setAttribute("aria-busy", "false");
      Array.prototype.forEach.call(grid.querySelectorAll(".boxset-skeleton"), function (n) { n.remove(); });
    }

    function more() {
      if (busy || done) { return; }
      busy = true;
      var mine = generation;
      grid.setAttribute("aria-busy", "true");
      if (cursor) {
        loading.classList.remove("hidden");
      } else {  // the first page: placeholder cards where the posters will be
        empty.classList.add("hidden");
        for (var i = 0; i < 12; i += 1) { grid.appendChild(el("div", { className: "boxset-skeleton", "aria-hidden": "true" })); }
      }
      api("GET", query()).then(function (result) {
        if (mine !== generation) { return; }
        busy = false;
        stopLoading();
        var errors = panel.querySelector("[data-errors]");
        if (!result.ok) {
          done = true;
          show(errors, message(result.body));
          panel.classList.remove("hidden");
          document.getElementById("toggle-filters").setAttribute("aria-expanded", "true");
          return;
        }
        hide(errors);
        result.body.result.forEach(function (item) { grid.appendChild(card(item)); });
        document.getElementById("browse-count").textContent = result.body.count + (result.body.count === 1 ? " item" : " items");
        showEmpty(result.body.count);
        cursor = result.body.next_cursor;
        done = !cursor;
      }, function () {
        if (mine !== generation) { return; }
        busy = false;
        done = true;
        stopLoading();
        show(panel.querySelector("[data-errors]"), "The server could not be reached. Try again in a moment.");
        panel.classList.remove("hidden");
      });
    }

    function restart() {
      generation += 1;
      grid.textContent = "";
      document.getElementById("browse-count").textContent = "";  // no stale count while the new answer loads
      cursor = null;
      done = false;
      busy = false;
      var count = activeFilters(formData(form)).length;
      var badge = document.getElementById("filter-count");
      badge.textContent = String(count);
      badge.classList.toggle("hidden", count === 0);
      more();
    }

    function clearFilters() {
      FILTERS.forEach(function (key) { form.elements[key].value = ""; });
      form.elements.search.value = "";
      restart();
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); restart(); });
    form.addEventListener("change", function (event) {
      if (event.target.name !== "search") { restart(); }
    });
    document.getElementById("toggle-filters").addEventListener("click", function (event) {
      var open = panel.classList.toggle("hidden") === false;
      event.currentTarget.setAttribute("aria-expanded", String(open));
      if (open) { panel.querySelector("input").focus(); }
    });
    document.getElementById("clear-filters").addEventListener("click", clearFilters);
    empty.querySelector("[data-clear]").addEventListener("click", clearFilters);
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries[0].isIntersecting) { more(); }
      }, { rootMargin: "600px" }).observe(sentinel);
    }

    // --- the detail drawer ---
    function mayChange(item) { return canAdd && (canEditAll || item.added_by === userId); }

    function field(list, label, value) {
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) { return; }
      var text = Array.isArray(value) ? value.join(", ") : typeof value === "object" ? JSON.stringify(value) : String(value);
      list.appendChild(el("dt", { text: label }));
      list.appendChild(el("dd", { text: text }));
    }

    function link(list, label, href, text) {
      if (!href) { return; }
      list.appendChild(el("dt", { text: label }));
      list.appendChild(el("dd", {}, [el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: text || href })]));
    }

    function table(headers, rows) {
      return el("table", { className: "table table-condensed" }, [
        el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
        el("tbody", {}, rows.map(function (cells) {
          return el("tr", {}, cells.map(function (c) {
            if (c && c.nodeType) { return el("td", {}, [c]); }
            return el("td", { text: c === null || c === undefined ? "—" : String(c) });
          }));
        }))
      ]);
    }

    function seasonsSection(body, seasons) {
      var expected = 0;
      var owned = 0;
      var complete = 0;
      seasons.forEach(function (s) {
        expected += s.expected_episodes || 0;
        owned += s.available_episodes || 0;
        if (s.is_complete) { complete += 1; }
      });
      body.appendChild(el("h3", { text: "Seasons" }));
      var summary = complete + " of " + seasons.length + (seasons.length === 1 ? " season" : " seasons") + " complete";
      if (expected) { summary = owned + " of " + expected + " episodes owned · " + summary; }
      var progress = el("div", { className: "boxset-drawer-progress" }, [summary]);
      if (expected) {
        var percent = Math.min(100, Math.round(owned * 100 / expected));
        progress.appendChild(el("div", { className: "progress", "aria-hidden": "true" }, [
          el("div", { className: "progress-bar" + (percent === 100 ? " progress-bar-success" : ""), style: "width: " + percent + "%" })
        ]));
      }
      body.appendChild(progress);
      body.appendChild(table(["Season", "Expected", "Owned", "Complete"], seasons.map(function (s) {
        return [s.season_number, s.expected_episodes, s.available_episodes,
          el("span", { className: "label " + (s.is_complete ? "label-success" : "label-default"), text: s.is_complete ? "yes" : "no" })];
      })));
    }

    function variantsSection(body, variants) {
      body.appendChild(el("h3", { text: "Copies and editions" }));
      body.appendChild(el("ul", { className: "boxset-drawer-variants" }, variants.map(function (v) {
        var details = [v.format, RESOLUTION_LABELS[v.resolution] || v.resolution, v.width && v.height ? v.width + "×" + v.height : null,
          v.container, [v.video_codec, v.audio_codec].filter(function (x) { return x; }).join(" / ") || null]
          .filter(function (x) { return x; }).join(" · ");
        return el("li", {}, [el("strong", { text: v.edition || v.format || "Copy" }), el("span", { text: details || "No details" })]);
      })));
    }

    function humanize(key) { return key.replace(/_/g, " "); }

    function renderDrawer(item) {
      current = item;
      drawer.setAttribute("data-media-id", String(item.id));
      document.getElementById("drawer-title").textContent = item.title;
      drawer.querySelector("[data-subtitle]").textContent = [item.year, item.format, TYPE_LABELS[item.media_type]]
        .filter(function (x) { return x; }).join(" · ");
      var body = drawer.querySelector("[data-body]");
      body.textContent = "";
      body.scrollTop = 0;
      if (item.cover_url) {
        body.appendChild(el("img", { className: "boxset-drawer-cover", src: item.cover_url, alt: "Cover of " + item.title }));
      }
      if (item.overview) { body.appendChild(el("p", { className: "boxset-overview", text: item.overview })); }
      var facts = el("dl", { className: "boxset-facts" });
      field(facts, "Original title", item.original_title);
      field(facts, "Genres", item.genres);
      field(facts, "Directors", item.directors);
      field(facts, "Cast", item.cast);
      field(facts, "Released", item.release_date);
      field(facts, "Runtime", item.runtime ? item.runtime + " min" : null);
      field(facts, "Rating", item.rating !== null ? item.rating + " / 10" : null);
      field(facts, "My rating", item.user_rating !== null ? item.user_rating + " / 10" : null);
      field(facts, "Network", item.network);
      field(facts, "Season", item.season_number);
      field(facts, "Episode", item.episode_number);
      field(facts, "Episode title", item.episode_title);
      field(facts, "Location", item.location);
      field(facts, "UPC/EAN", item.upc);
      link(facts, "IMDb", item.imdb_id ? "https://www.imdb.com/title/" + encodeURIComponent(item.imdb_id) + "/" : null, item.imdb_id);
      link(facts, "TMDB", item.tmdb_id ? "https://www.themoviedb.org/" + (item.tmdb_media_type === "tv" ? "tv/" : "movie/") + item.tmdb_id : null, String(item.tmdb_id));
      link(facts, "Trailer", item.trailer_url, "Watch");
      field(facts, "Notes", item.notes);
      field(facts, "Imported from", item.import_source);
      field(facts, "Added by", (item.added_by_name || "—") + ", " + when(item.created_at));
      field(facts, "Last change", when(item.updated_at));
      body.appendChild(facts);
      if (item.seasons && item.seasons.length) { seasonsSection(body, item.seasons); }
      if (item.variants && item.variants.length) { variantsSection(body, item.variants); }
      var meta = item.metadata ? Object.keys(item.metadata) : [];
      if (meta.length) {
        body.appendChild(el("h3", { text: "More" }));
        var extra = el("dl", { className: "boxset-facts" });
        meta.forEach(function (key) { field(extra, humanize(key), item.metadata[key]); });
        body.appendChild(extra);
      }
      drawer.querySelector("[data-actions]").classList.toggle("hidden", !mayChange(item));
    }

    var drawerOpener = null;

    function openDrawer(mediaId) {
      Array.prototype.forEach.call(grid.querySelectorAll(".boxset-selected"), function (n) { n.classList.remove("boxset-selected"); });
      var selectedCard = grid.querySelector("[data-media-id='" + mediaId + "']");
      if (selectedCard) { selectedCard.classList.add("boxset-selected"); }
      if (drawer.contains(document.activeElement) === false && document.activeElement !== document.body) { drawerOpener = document.activeElement; }
      if (selectedCard) { drawerOpener = selectedCard; }
      if (!current || current.id !== mediaId) {  // another item: no stale details while it loads
        current = null;
        document.getElementById("drawer-title").textContent = selectedCard ? selectedCard.getAttribute("title") : "";
        drawer.querySelector("[data-subtitle]").textContent = "";
        drawer.querySelector("[data-actions]").classList.add("hidden");
        var body = drawer.querySelector("[data-body]");
        body.textContent = "";
        body.appendChild(el("div", { className: "boxset-drawer-loading" }, [el("span", { className: "boxset-spinner", "aria-hidden": "true" }), " Loading details…"]));
      }
      drawer.classList.remove("hidden");
      drawer.classList.add("boxset-busy");
      drawer.setAttribute("aria-busy", "true");
      return api("GET", "/api/media/" + mediaId).then(function (result) {
        drawer.classList.remove("boxset-busy");
        drawer.setAttribute("aria-busy", "false");
        if (!result.ok) {
          document.getElementById("drawer-title").textContent = message(result.body);
          drawer.querySelector("[data-body]").textContent = "";
          drawer.querySelector("[data-actions]").classList.add("hidden");
          return;
        }
        renderDrawer(result.body.result);
        drawer.querySelector("[data-close]").focus();
      });
    }

    function closeDrawer() {
      drawer.classList.add("hidden");
      current = null;
      Array.prototype.forEach.call(grid.querySelectorAll(".boxset-selected"), function (n) { n.classList.remove("boxset-selected"); });
      if (drawerOpener && document.body.contains(drawerOpener)) { drawerOpener.focus(); }
      drawerOpener = null;
    }
    drawer.querySelector("[data-close]").addEventListener("click", closeDrawer);
    drawer.addEventListener("keydown", function (event) { if (event.key === "Escape") { closeDrawer(); } });

    // --- add and edit ---
    var seasonRows = document.getElementById("season-rows");

    function seasonRow(season) {
      function number(name, value, label) {
        return el("td", {}, [el("input", {
          className: "form-control input-sm", type: "number", min: "0", name: name, "aria-label": label,
          value: value === null || value === undefined ? "" : String(value)
        })]);
      }
      var remove = el("button", { type: "button", className: "btn btn-link btn-sm", title: "Remove this season", "aria-label": "Remove this season" },
        [el("span", { className: "fa fa-trash-o", "aria-hidden": "true" })]);
      var row = el("tr", { "data-season": "" }, [
        number("season_number", season.season_number, "Season number"),
        number("expected_episodes", season.expected_episodes, "Episodes expected"),
        number("available_episodes", season.available_episodes, "Episodes owned"),
        el("td", {}, [remove])
      ]);
      remove.addEventListener("click", function () {
        row.remove();
        syncSeasons();
        document.getElementById("add-season").focus();
      });
      seasonRows.appendChild(row);
      syncSeasons();
      return row;
    }

    function syncSeasons() {
      var any = seasonRows.querySelector("[data-season]") !== null;
      seasonRows.closest("table").classList.toggle("hidden", !any);
      itemForm.querySelector("[data-seasons-empty]").classList.toggle("hidden", any);
    }

    document.getElementById("add-season").addEventListener("click", function () {
      var numbers = Array.prototype.map.call(seasonRows.querySelectorAll("input[name=season_number]"), function (i) { return Number(i.value) || 0; });
      var row = seasonRow({ season_number: numbers.length ? Math.max.apply(null, numbers) + 1 : 1 });
      row.querySelector("input[name=expected_episodes]").focus();
    });

    function adaptToType() {
      var type = itemForm.elements.media_type.value;
      var tv = type === "tv_series" || type === "tv_episode";
      itemForm.querySelector("[data-tv]").classList.toggle("hidden", !tv);
      itemForm.querySelector("[data-series]").classList.toggle("hidden", type !== "tv_series");
      Array.prototype.forEach.call(itemForm.querySelectorAll("[data-episode]"), function (node) {
        node.classList.toggle("hidden", type !== "tv_episode");
      });
    }
    itemForm.elements.media_type.addEventListener("change", adaptToType);

    function inputShown(input) {
      return !input.closest(".hidden");
    }

    function readItemForm() {
      var body = {};
      Array.prototype.forEach.call(itemForm.elements, function (input) {
        if (!input.name || input.closest("[data-season]") || input.type === "submit" || input.type === "button") { return; }
        var kind = input.getAttribute("data-kind");
        if (kind === "skip") { return; }
        var raw = input.value.trim();
        var value;
        if (!inputShown(input) && kind !== "keep") { value = null; }
        else if (kind === "list") { value = raw ? raw.split(",").map(function (s) { return s.trim(); }).filter(function (s) { return s; }) : []; }
        else if (kind === "int") { value = raw === "" ? null : Number(raw); }
        else if (kind === "float") { value = raw === "" ? null : Number(raw); }
        else { value = raw === "" ? null : raw; }
        if (kind === "keep" && value === null) { return; }
        if (input.hasAttribute("data-number")) { value = Number(value); }
        body[input.name] = value;
      });
      return body;
    }

    function readSeasons() {
      return Array.prototype.map.call(seasonRows.querySelectorAll("[data-season]"), function (row) {
        function num(name) {
          var raw = row.querySelector("input[name=" + name + "]").value.trim();
          return raw === "" ? null : Number(raw);
        }
        return { season_number: num("season_number"), expected_episodes: num("expected_episodes"), available_episodes: num("available_episodes") };
      }).filter(function (s) { return s.season_number !== null; });
    }

    function coverPreview(url) {
      var box = itemForm.querySelector("[data-cover-preview]");
      box.textContent = "";
      box.appendChild(url ? el("img", { src: url, alt: "" }) : el("span", { className: "fa fa-picture-o" }));
    }

    function fillItemForm(item) {
      itemForm.reset();
      seasonRows.textContent = "";
      syncSeasons();
      itemForm.querySelector("[data-cover-state]").textContent = item && item.cover_url ? "Has a cover; choose a file to replace it." : "";
      coverPreview(item ? item.thumb_url || item.cover_url : null);
      itemForm.elements.cover_key.value = "";
      if (item) {
        Array.prototype.forEach.call(itemForm.elements, function (input) {
          if (!input.name || input.type === "file" || input.closest("[data-season]") || !(input.name in item)) { return; }
          if (input.name === "cover_key" || input.hasAttribute("data-from-lookup")) { return; }
          var value = item[input.name];
          input.value = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value);
        });
        (item.seasons || []).forEach(seasonRow);
      }
      adaptToType();
    }

    // --- find it: TMDB search, barcode, cover photo ---
    var lookupPanel = itemForm.querySelector("[data-lookup-panel]");
    var lookupInput = document.getElementById("i-lookup");
    var lookupResults = itemForm.querySelector("[data-lookup-results]");

    function lookupMessage(text, kind) {
      lookupResults.textContent = "";
      lookupResults.appendChild(el("p", { className: "text-" + (kind || "muted"), text: text }));
    }

    function useFound(tmdb, extra) {
      lookupMessage("Filling in " + tmdb.title + "…");
      api("GET", "/api/media/tmdb/" + tmdb.tmdb_id + "/details?media_type=" + tmdb.tmdb_media_type).then(function (result) {
        if (!result.ok) { lookupMessage(message(result.body), "danger"); return; }
        var found = Object.assign({}, result.body.result, extra || {});
        Array.prototype.forEach.call(itemForm.elements, function (input) {
          if (!input.name || input.type === "file" || input.closest("[data-season]") || !(input.name in found)) { return; }
          var value = found[input.name];
          if (value === null || value === undefined) { return; }
          input.value = Array.isArray(value) ? value.join(", ") : String(value);
        });
        seasonRows.textContent = "";
        (found.seasons || []).forEach(seasonRow);
        syncSeasons();
        adaptToType();
        if (found.cover_url) { coverPreview(found.cover_url); }
        lookupMessage("Filled in from TMDB: " + found.title + (found.year ? " (" + found.year + ")" : "") + ". Check it and save.", "success");
      });
    }

    function showFound(matches, extra) {
      lookupResults.textContent = "";
      if (!matches.length) { lookupMessage("Nothing found on TMDB."); return; }
      matches.slice(0, 6).forEach(function (tmdb) {
        var use = button("Use", "primary", function () { useFound(tmdb, extra); });
        lookupResults.appendChild(el("div", { className: "boxset-lookup-hit" }, [
          tmdb.poster_url ? el("img", { src: tmdb.poster_url, alt: "", loading: "lazy" }) : el("span", { className: "boxset-lookup-blank" }),
          el("span", {}, [el("strong", { text: tmdb.title }), " ", el("span", { className: "text-muted", text: [tmdb.year, tmdb.tmdb_media_type === "tv" ? "TV" : null].filter(function (x) { return x; }).join(" · ") })]),
          use
        ]));
      });
    }

    function lookUp() {
      var text = lookupInput.value.trim();
      if (!text) { return; }
      var digits = text.replace(/[\s-]/g, "");
      if (/^\d{8,14}$/.test(digits)) {
        lookupMessage("Looking up barcode " + digits + "…");
        api("POST", "/api/media/lookup-upc", { upc: digits }).then(function (result) {
          if (!result.ok) { lookupMessage(message(result.body), "danger"); return; }
          var hits = result.body.result.matches.filter(function (m) { return m.tmdb; }).map(function (m) { return m.tmdb; });
          itemForm.elements.upc.value = result.body.result.upc;
          if (!hits.length && result.body.result.matches.length) {
            var first = result.body.result.matches[0];
            itemForm.elements.title.value = (first.search_titles && first.search_titles[0]) || first.title;
            lookupMessage("Found “" + first.title + "” but no TMDB match; the title is filled in.");
            return;
          }
          showFound(hits, { upc: result.body.result.upc });
        });
        return;
      }
      var type = itemForm.elements.media_type.value;
      lookupMessage("Searching TMDB…");
      api("POST", "/api/media/search-tmdb", { title: text, media_type: type === "tv_series" || type === "tv_episode" ? "tv" : "movie" })
        .then(function (result) {
          if (!result.ok) { lookupMessage(message(result.body), "danger"); return; }
          showFound(result.body.result);
        });
    }

    lookupInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); lookUp(); }
    });
    itemForm.querySelector("[data-lookup-search]").addEventListener("click", lookUp);
    document.getElementById("i-lookup-photo").addEventListener("change", function (event) {
      var file = event.target.files[0];
      if (!file) { return; }
      lookupMessage("Reading the cover…");
      var body = new FormData();
      body.append("cover", file);
      fetch("/api/media/recognize-cover", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken() }, body: body })
        .then(function (response) { return response.json().then(function (json) { return { ok: response.ok, body: json }; }); })
        .then(function (result) {
          event.target.value = "";
          if (!result.ok) { lookupMessage(message(result.body), "danger"); return; }
          showFound(result.body.result.tmdb_matches);
        }, function () { lookupMessage("The photo could not be sent.", "danger"); });
    });

    function openItemDialog(item) {
      editing = item;
      lookupPanel.classList.toggle("hidden", Boolean(item));
      lookupInput.value = "";
      lookupResults.textContent = "";
      document.getElementById("item-dialog-title").textContent = item ? "Edit " + item.title : "Add item";
      fillItemForm(item);
      openDialog(itemDialog);
    }

    itemForm.elements.cover.addEventListener("change", function () {
      var file = itemForm.elements.cover.files[0];
      var state = itemForm.querySelector("[data-cover-state]");
      var save = itemForm.querySelector("[data-save]");
      itemForm.elements.cover_key.value = "";
      if (!file) { state.textContent = ""; coverPreview(editing ? editing.thumb_url || editing.cover_url : null); return; }
      var upload = new FormData();
      upload.append("cover", file);
      state.textContent = "";
      state.appendChild(el("span", { className: "boxset-spinner", "aria-hidden": "true" }));
      state.appendChild(document.createTextNode(" Uploading…"));
      save.disabled = true;
      fetch("/api/media/upload-cover", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken() }, body: upload
      }).then(function (response) {
        return response.json().then(function (json) { return { ok: response.ok, body: json }; }, function () { return { ok: false, body: null }; });
      }).then(function (result) {
        save.disabled = false;
        if (!result.ok) {
          state.textContent = "";
          show(itemForm.querySelector("[data-errors]"), "Cover: " + message(result.body));
          itemForm.elements.cover.value = "";
          return;
        }
        hide(itemForm.querySelector("[data-errors]"));
        itemForm.elements.cover_key.value = result.body.cover_key;
        coverPreview(result.body.cover_url);
        state.textContent = "";
        state.appendChild(el("span", { className: "fa fa-check text-success", "aria-hidden": "true" }));
        state.appendChild(document.createTextNode(" Cover ready."));
      }, function () {
        save.disabled = false;
        state.textContent = "The upload failed; try again.";
      });
    });

    itemForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = readItemForm();
      var errors = itemForm.querySelector("[data-errors]");
      var request;
      if (editing) {
        request = api("PATCH", "/api/media/" + editing.id, body);
      } else {
        Object.keys(body).forEach(function (key) {
          if (body[key] === null || (Array.isArray(body[key]) && !body[key].length)) { delete body[key]; }
        });
        body.library_id = libraryId;
        request = api("POST", "/api/media", body);
      }
      var save = itemForm.querySelector("[data-save]");
      save.disabled = true;
      request.then(function (result) {
        if (!result.ok) { return result; }
        if (body.media_type !== "tv_series") { return result; }
        return api("PUT", "/api/media/" + result.body.id + "/seasons", { seasons: readSeasons() }).then(function (seasons) {
          return seasons.ok ? result : { ok: false, body: seasons.body, saved: result };
        });
      }).then(function (result) {
        save.disabled = false;
        if (!result.ok) {
          show(errors, (result.saved ? "Saved, but the seasons were not: " : "") + message(result.body));
          if (result.saved) { editing = result.saved.body.result; }
          return;
        }
        closeDialog(itemDialog);
        restart();
        openDrawer(result.body.id);
      }, function () {
        save.disabled = false;
        show(errors, "The server could not be reached. Nothing was saved.");
      });
    });
    Array.prototype.forEach.call(itemDialog.querySelectorAll("[data-close]"), function (node) {
      node.addEventListener("click", function () { closeDialog(itemDialog); });
    });

    Array.prototype.forEach.call(page.querySelectorAll("#add-item, [data-add]"), function (node) {
      node.addEventListener("click", function () { openItemDialog(null); });
    });
    drawer.querySelector("[data-edit]").addEventListener("click", function () { if (current) { openItemDialog(current); } });

    // --- delete ---
    drawer.querySelector("[data-delete]").addEventListener("click", function () {
      if (!current) { return; }
      deleteDialog.querySelector("[data-name]").textContent = current.title;
      openDialog(deleteDialog);
    });
    deleteDialog.querySelector("[data-close]").addEventListener("click", function () { closeDialog(deleteDialog); });
    deleteDialog.querySelector("[data-confirm]").addEventListener("click", function (event) {
      var item = current;
      var confirm = event.currentTarget;
      if (!item) { return; }
      confirm.disabled = true;
      api("DELETE", "/api/media/" + item.id).then(function (result) {
        confirm.disabled = false;
        if (!result.ok) { show(deleteDialog.querySelector("[data-errors]"), message(result.body)); return; }
        closeDialog(deleteDialog);
        closeDrawer();
        restart();
      }, function () {
        confirm.disabled = false;
        show(deleteDialog.querySelector("[data-errors]"), "The server could not be reached. Nothing was deleted.");
      });
    });

    more();
  };

  // --- duplicates ------------------------------------------------------------------------------
  pages.duplicates = function () {
    var spaceId = page.getAttribute("data-space-id");
    var form = document.getElementById("duplicates-form");
    var list = document.getElementById("duplicates-groups");
    var empty = document.getElementById("duplicates-empty");
    var more = document.getElementById("duplicates-more");
    var errors = page.querySelector("[data-errors]");
    var resultBox = document.getElementById("merge-result");
    var labels = { tmdb: "same TMDB id", upc: "same UPC", title: "same title" };
    var nextPage = 1;
    var lastMergeId = null;

    function describe(item) {
      return [item.year, item.format, item.media_type.replace("_", " "), "#" + item.id]
        .filter(function (x) { return x; }).join(" · ");
    }

    function itemRow(item, groupName, checked) {
      var attrs = { type: "radio", name: groupName, value: String(item.id) };
      if (checked) { attrs.checked = "checked"; }
      if (!item.editable) { attrs.disabled = "disabled"; }
      var parts = [el("input", attrs), " "];
      if (item.thumb_url) { parts.push(el("img", { src: item.thumb_url, alt: "", className: "boxset-cover-preview", loading: "lazy" }), " "); }
      parts.push(el("strong", { text: item.title }), " ", el("span", { className: "text-muted", text: describe(item) }));
      if (!item.editable) { parts.push(" ", el("em", { className: "text-muted", text: "(added by someone else)" })); }
      return el("li", { "data-media-id": String(item.id) }, [el("label", {}, parts)]);
    }

    function groupPanel(group, index) {
      var groupName = "keep-" + nextPage + "-" + index;
      var editable = group.items.filter(function (item) { return item.editable; });
      var rows = group.items.map(function (item) {
        return itemRow(item, groupName, editable.length && item.id === editable[0].id);
      });
      var heading = group.reasons.map(function (r) { return labels[r] || r; }).join(", ");
      var panel = el("section", { className: "boxset-panel boxset-duplicate-group", "data-reason": group.reason }, [
        el("h2", { text: group.items[0].title }),
        el("p", { className: "text-muted", text: "Keep one of " + group.size + " items with the " + heading + " (" + group.key + ")." }),
        el("ul", { className: "list-unstyled" }, rows)
      ]);
      var merge = button("Merge into the chosen item", "primary", function () {
        var chosen = panel.querySelector("input[type=radio]:checked");
        if (!chosen) { return; }
        var keepId = Number(chosen.value);
        var kept = group.items.filter(function (item) { return item.id === keepId; })[0];
        var mergeIds = editable.map(function (item) { return item.id; })
          .filter(function (id) { return id !== keepId; });
        if (!mergeIds.length) { return; }
        if (!window.confirm("Merge " + mergeIds.length + " item(s) into \u201c" + kept.title + "\u201d (#" + keepId + ")? Their copies, seasons and details move onto it and they are removed. You can undo this.")) { return; }
        api("POST", "/api/media/merge?space_id=" + spaceId, { keep_id: keepId, merge_ids: mergeIds }).then(function (result) {
          if (!result.ok) { show(errors, message(result.body)); return; }
          hide(errors);
          lastMergeId = result.body.merge_id;
          document.getElementById("merge-result-text").textContent =
            "Merged " + mergeIds.length + " item(s) into \u201c" + result.body.result.title + "\u201d.";
          resultBox.className = "alert alert-success";
          document.getElementById("merge-undo").classList.remove("hidden");
          restart();
        });
      });
      if (editable.length < 2) {
        merge.disabled = true;
        panel.appendChild(el("p", { className: "text-muted", text: "You can merge only items you added." }));
      }
      panel.appendChild(merge);
      return panel;
    }

    function load() {
      var params = ["space_id=" + spaceId, "limit=50", "page=" + nextPage];
      var reason = formData(form).reason;
      if (reason) { params.push("reason=" + encodeURIComponent(reason)); }
      more.classList.add("hidden");
      api("GET", "/api/media/duplicates?" + params.join("&")).then(function (result) {
        if (!result.ok) { show(errors, message(result.body)); return; }
        result.body.result.forEach(function (group, index) { list.appendChild(groupPanel(group, index)); });
        var count = result.body.count;
        document.getElementById("duplicates-count").textContent = count ? count + (count === 1 ? " group" : " groups") : "";
        empty.classList.toggle("hidden", result.body.count !== 0);
        more.classList.toggle("hidden", !result.body.has_more);
        nextPage += 1;
      });
    }

    function restart() {
      list.textContent = "";
      nextPage = 1;
      load();
    }

    document.getElementById("merge-undo").addEventListener("click", function () {
      if (!lastMergeId) { return; }
      api("POST", "/api/media/merges/" + lastMergeId + "/undo").then(function (result) {
        if (!result.ok) { show(errors, message(result.body)); return; }
        lastMergeId = null;
        document.getElementById("merge-result-text").textContent = "The merge was undone.";
        document.getElementById("merge-undo").classList.add("hidden");
        restart();
      });
    });
    form.addEventListener("change", restart);
    form.addEventListener("submit", function (event) { event.preventDefault(); restart(); });
    more.addEventListener("click", load);
    load();
  };

  // --- manage libraries -----------------------------------------------------------------------
  pages.libraries = function () {
    var dialog = document.getElementById("delete-dialog");
    var libraries = [];

    function confirmName(library, verb) {
      return window.prompt("Type the library's name, " + library.name + ", to " + verb + " it.");
    }

    function load() {
      api("GET", "/api/libraries?include_archived=true").then(function (result) {
        libraries = result.body && result.body.result || [];
        var rows = libraries.map(function (lib) {
          var actions = [
            button("Rename", "default", function () {
              var newName = window.prompt("New name for " + lib.name, lib.name);
              if (!newName) { return; }
              api("PATCH", "/api/libraries/" + lib.id, { name: newName }).then(function (r) {
                if (r.ok) { window.location.reload(); } else { window.alert(message(r.body)); }
              });
            }),
            button(lib.archived_at ? "Unarchive" : "Archive", "warning", function () {
              var typed = confirmName(lib, lib.archived_at ? "unarchive" : "archive");
              if (typed === null) { return; }
              var verb = lib.archived_at ? "unarchive" : "archive";
              api("POST", "/api/libraries/" + lib.id + "/" + verb, { confirm_name: typed }).then(function (r) {
                if (r.ok) { window.location.reload(); } else { window.alert(message(r.body)); }
              });
            }),
            button("Delete…", "danger", function () { openDelete(lib); })
          ];
          return el("tr", {}, [
            el("td", { text: lib.name }), el("td", { text: lib.description || "" }),
            el("td", { text: lib.archived_at ? "archived" : "active" }), el("td", {}, actions)
          ]);
        });
        fill(document.getElementById("libraries-body"), rows, "No libraries yet.", 4);
      });
    }

    function openDelete(lib) {
      dialog.querySelector("[data-name]").textContent = lib.name;
      var select = dialog.querySelector("select[name=target_library_id]");
      select.textContent = "";
      libraries.filter(function (other) { return other.id !== lib.id; }).forEach(function (other) {
        select.appendChild(el("option", { value: String(other.id), text: other.name }));
      });
      dialog.setAttribute("data-library-id", lib.id);
      hide(dialog.querySelector("[data-errors]"));
      dialog.classList.remove("hidden");
    }

    dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.classList.add("hidden"); });
    document.getElementById("delete-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var data = formData(event.target);
      var body = { confirm_name: data.confirm_name, media: data.media };
      if (data.media === "move") { body.target_library_id = Number(data.target_library_id) || null; }
      api("DELETE", "/api/libraries/" + dialog.getAttribute("data-library-id"), body).then(function (r) {
        if (r.ok) { window.location.reload(); } else { show(dialog.querySelector("[data-errors]"), message(r.body)); }
      });
    });
    var form = document.getElementById("library-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = formData(form);
      if (!data.description) { data.description = null; }
      api("POST", "/api/libraries", data).then(function (result) {
        if (result.ok) { window.location.reload(); } else { show(form.querySelector("[data-errors]"), message(result.body)); }
      });
    });
    load();
  };

  // --- import ---------------------------------------------------------------------------------
  var PROVIDER_LABELS = { csv_generic: "CSV", csv_delicious: "Delicious Library", plex: "Plex" };

  function upload(url, field, file) {
    var body = new FormData();
    body.append(field, file);
    return fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken() }, body: body })
      .then(function (response) {
        return response.json().then(
          function (json) { return { ok: response.ok, status: response.status, body: json }; },
          function () { return { ok: response.ok, status: response.status, body: null }; }
        );
      });
  }

  // Add a title found on TMDB (or just its name) to the active library, in one step.
  function addFound(tmdb, extra) {
    var details = tmdb ? api("GET", "/api/media/tmdb/" + tmdb.tmdb_id + "/details?media_type=" + tmdb.tmdb_media_type)
      : Promise.resolve({ ok: true, body: { result: {} } });
    return details.then(function (found) {
      if (!found.ok) { return found; }
      var item = Object.assign({}, found.body.result, extra);
      var seasons = item.seasons;
      delete item.seasons;
      Object.keys(item).forEach(function (key) { if (item[key] === null || item[key] === undefined) { delete item[key]; } });
      return api("POST", "/api/media", item).then(function (created) {
        if (!created.ok || !seasons || !seasons.length) { return created; }
        return api("PUT", "/api/media/" + created.body.id + "/seasons", { seasons: seasons }).then(function () { return created; });
      });
    });
  }

  function matchCard(title, subtitle, image, onAdd) {
    var status = el("span", { className: "text-muted", "data-added": "" });
    var add = button("Add to library", "primary", function () {
      add.disabled = true;
      status.textContent = "Adding…";
      onAdd().then(function (result) {
        if (result.ok) {
          status.textContent = "Added ✓";
          status.className = "text-success";
        } else {
          add.disabled = false;
          status.textContent = message(result.body);
          status.className = "text-danger";
        }
      });
    });
    add.classList.remove("btn-xs");
    add.classList.add("btn-sm");
    return el("div", { className: "boxset-match" }, [
      image ? el("img", { src: image, alt: "", loading: "lazy" }) : el("div", { className: "boxset-match-blank" }),
      el("div", {}, [el("strong", { text: title }), el("div", { className: "text-muted", text: subtitle || "" }), add, " ", status])
    ]);
  }

  pages.import = function () {
    var spaceAdmin = page.getAttribute("data-space-admin") === "true";
    var panel = document.getElementById("job-panel");
    var watching = null;
    var watchTimer = null;
    var listTimer = null;

    function showTab(key) {
      Array.prototype.forEach.call(page.querySelectorAll("[data-tab]"), function (link) {
        link.parentNode.classList.toggle("active", link.getAttribute("data-tab") === key);
        link.setAttribute("aria-selected", String(link.getAttribute("data-tab") === key));
      });
      Array.prototype.forEach.call(page.querySelectorAll("[data-panel]"), function (section) {
        section.classList.toggle("hidden", section.getAttribute("data-panel") !== key);
      });
      if (key === "barcode") { document.getElementById("barcode-input").focus(); }
    }
    Array.prototype.forEach.call(page.querySelectorAll("[data-tab]"), function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        showTab(link.getAttribute("data-tab"));
        history.replaceState(null, "", "#" + link.getAttribute("data-tab"));
      });
    });
    var initial = window.location.hash.replace("#", "");
    showTab(page.querySelector("[data-tab='" + initial + "']") ? initial : (spaceAdmin ? "plex" : "csv"));

    // --- jobs ---
    function progressBar(job) {
      var total = job.progress.total;
      var percent = job.status === "succeeded" ? 100 : total ? Math.min(100, Math.round(100 * job.progress.done / total)) : 0;
      return { percent: percent, text: total ? job.progress.done + " / " + total : String(job.progress.done) };
    }

    function summaryText(job) {
      if (job.status === "failed") { return "Failed: " + (job.error || "unknown reason"); }
      if (!job.summary) { return job.status === "queued" ? "Waiting for a worker…" : "Running…"; }
      var s = job.summary;
      return s.created + " created, " + s.updated + " updated, " + s.skipped + " skipped, " + s.failed + " failed";
    }

    function renderJob(job) {
      panel.classList.remove("hidden");
      panel.setAttribute("data-job-id", String(job.id));
      panel.setAttribute("data-status", job.status);
      panel.querySelector("[data-job-title]").textContent = "#" + job.id + " · " + (PROVIDER_LABELS[job.provider] || job.provider) + (job.file_name ? " · " + job.file_name : "");
      var bar = document.getElementById("job-progress");
      var progress = progressBar(job);
      bar.style.width = progress.percent + "%";
      bar.setAttribute("aria-valuenow", String(progress.percent));
      bar.textContent = progress.text;
      bar.className = "progress-bar" + (job.status === "failed" ? " progress-bar-danger" : job.status === "succeeded" ? " progress-bar-success" : " progress-bar-striped active");
      panel.querySelector("[data-job-status]").textContent = { queued: "Queued", running: "Importing…", succeeded: "Done", failed: "Stopped" }[job.status];
      panel.querySelector("[data-job-summary]").textContent = summaryText(job);
      var finished = job.status === "succeeded" || job.status === "failed";
      panel.querySelector("[data-job-report]").classList.toggle("hidden", !finished);
      if (finished) {
        document.getElementById("job-report-link").setAttribute("href", "/api/sync-jobs/" + job.id + "/report.csv");
        loadRows(job.id);
      }
      return finished;
    }

    var rowsAsked = 0;

    function loadRows(jobId) {
      var status = document.getElementById("job-row-filter").value;
      var mine = ++rowsAsked;  // only the latest answer is shown
      api("GET", "/api/sync-jobs/" + jobId + "/rows?limit=500" + (status ? "&status=" + status : "")).then(function (result) {
        if (!result.ok || mine !== rowsAsked) { return; }
        var rows = result.body.result.map(function (r) {
          return el("tr", { className: "boxset-row-" + r.status }, [
            el("td", { text: String(r.row) }), el("td", { text: r.title || "—" }),
            el("td", { text: r.status }), el("td", { text: [r.matched_by ? "matched by " + r.matched_by.replace(/_/g, " ") : null, r.detail,
              r.enrichment !== "not_attempted" ? "TMDB: " + r.enrichment.replace("_", " ") + (r.enrichment_detail ? " (" + r.enrichment_detail + ")" : "") : null]
              .filter(function (x) { return x; }).join(" · ") })
          ]);
        });
        if (result.body.count > rows.length) {
          rows.push(el("tr", {}, [el("td", { colspan: "4", className: "text-muted", text: (result.body.count - rows.length) + " more rows in the CSV report." })]));
        }
        fill(document.getElementById("job-rows"), rows, "No rows.", 4);
      });
    }
    document.getElementById("job-row-filter").addEventListener("change", function () {
      if (watching) { loadRows(watching); }
    });

    function watch(jobId) {
      watching = jobId;
      window.clearTimeout(watchTimer);
      function poll() {
        api("GET", "/api/sync-jobs/" + jobId).then(function (result) {
          if (watching !== jobId || !result.ok) { return; }
          if (!renderJob(result.body.result)) { watchTimer = window.setTimeout(poll, 1000); }
          else { loadJobs(); }
        });
      }
      poll();
      panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }

    function loadJobs() {
      window.clearTimeout(listTimer);
      api("GET", "/api/sync-jobs?limit=10").then(function (result) {
        if (!result.ok) { return; }
        var busy = false;
        var rows = result.body.result.map(function (job) {
          var progress = progressBar(job);
          busy = busy || job.status === "queued" || job.status === "running";
          var row = el("tr", { className: "boxset-clickable", "data-job-id": String(job.id) }, [
            el("td", { text: when(job.created_at) }),
            el("td", { text: (PROVIDER_LABELS[job.provider] || job.provider) + (job.file_name ? " · " + job.file_name : "") }),
            el("td", {}, [el("div", { className: "progress boxset-mini-progress" }, [
              el("div", { className: "progress-bar" + (job.status === "failed" ? " progress-bar-danger" : job.status === "succeeded" ? " progress-bar-success" : ""), style: "width: " + progress.percent + "%", text: progress.text })
            ])]),
            el("td", { text: summaryText(job) })
          ]);
          row.addEventListener("click", function () { watch(job.id); });
          return row;
        });
        fill(document.getElementById("jobs-body"), rows, "No imports yet.", 4);
        if (busy) { listTimer = window.setTimeout(loadJobs, 3000); }
      });
    }

    function enrichParam(form) {
      var box = form.querySelector("[data-enrich]");
      return box && box.checked ? "&enrich=true" : "";
    }

    function started(form, result) {
      var button = form.querySelector("[data-start]");
      if (button) { button.disabled = false; }
      if (!result.ok) { show(form.querySelector("[data-errors]"), message(result.body)); return; }
      hide(form.querySelector("[data-errors]"));
      form.reset();
      var job = result.body.result.job || result.body.result;
      watch(job.id);
      loadJobs();
    }

    Array.prototype.forEach.call(page.querySelectorAll("#csv-form, #delicious-form"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var file = form.elements.file.files[0];
        if (!file) { show(form.querySelector("[data-errors]"), "Choose a file first."); return; }
        form.querySelector("[data-start]").disabled = true;
        upload(form.getAttribute("data-url") + "?async=true" + enrichParam(form), "file", file).then(function (result) { started(form, result); },
          function () { started(form, { ok: false, body: { message: "The server could not be reached." } }); });
      });
    });

    var plexForm = document.getElementById("plex-form");
    if (plexForm) {
      api("GET", "/api/admin/settings/integrations").then(function (result) {
        var box = plexForm.querySelector("[data-sections]");
        box.textContent = "";
        var settings = result.ok ? result.body.result : {};
        var sections = settings.plex_sections || [];
        if (!settings.plex_api_url || !(settings.plex_api_token || {}).set) {
          box.appendChild(el("p", { className: "alert alert-info" }, ["Plex is not set up yet: add its address and token under ",
            el("a", { href: "/integrations", text: "Integrations" }), "."]));
          plexForm.querySelector("[data-start]").disabled = true;
          return;
        }
        if (!sections.length) {
          box.appendChild(el("p", { className: "text-muted" }, ["No sections chosen yet; pick them under ", el("a", { href: "/integrations", text: "Integrations" }), "."]));
          plexForm.querySelector("[data-start]").disabled = true;
          return;
        }
        sections.forEach(function (section) {
          box.appendChild(el("div", { className: "checkbox" }, [el("label", {}, [
            el("input", { type: "checkbox", name: "section", value: String(section.key), checked: "checked" }),
            " " + section.title + " ", el("small", { className: "text-muted", text: section.type === "show" ? "TV" : "movies" })
          ])]));
        });
      });
      plexForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var keys = Array.prototype.filter.call(plexForm.querySelectorAll("input[name=section]"), function (i) { return i.checked; })
          .map(function (i) { return i.value; });
        if (!keys.length) { show(plexForm.querySelector("[data-errors]"), "Choose at least one section."); return; }
        plexForm.querySelector("[data-start]").disabled = true;
        api("POST", "/api/media/import-plex?async=true" + enrichParam(plexForm), { section_keys: keys }).then(function (result) { started(plexForm, result); });
      });
    }

    // --- barcode ---
    var barcodeForm = document.getElementById("barcode-form");
    barcodeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("barcode-input");
      var code = input.value.trim();
      var results = document.getElementById("barcode-results");
      var errors = document.getElementById("barcode-errors");
      if (!code) { return; }
      results.textContent = "";
      results.appendChild(el("p", { className: "text-muted", text: "Looking up " + code + "…" }));
      api("POST", "/api/media/lookup-upc", { upc: code }).then(function (result) {
        results.textContent = "";
        if (!result.ok) { show(errors, message(result.body)); return; }
        hide(errors);
        var found = result.body.result;
        if (!found.matches.length) {
          results.appendChild(el("p", { className: "text-muted", text: "No product is known for " + found.upc + "." }));
        }
        found.matches.forEach(function (match) {
          var tmdb = match.tmdb;
          var extra = { upc: found.upc };
          if (match.format) { extra.format = match.format; }
          if (!tmdb) { extra.title = (match.search_titles && match.search_titles[0]) || match.title; }
          results.appendChild(matchCard(
            tmdb ? tmdb.title + (tmdb.year ? " (" + tmdb.year + ")" : "") : extra.title,
            (tmdb ? "TMDB match for " : "No TMDB match for ") + "“" + match.title + "”",
            tmdb && tmdb.poster_url ? tmdb.poster_url : match.image,
            function () { return addFound(tmdb, extra); }
          ));
        });
        input.value = "";
        input.focus();
      });
    });

    // --- cover photo ---
    var photoForm = document.getElementById("photo-form");
    photoForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = photoForm.elements.cover.files[0];
      var results = document.getElementById("photo-results");
      var errors = document.getElementById("photo-errors");
      if (!file) { show(errors, "Choose a photo first."); return; }
      results.textContent = "";
      results.appendChild(el("p", { className: "text-muted", text: "Reading the cover…" }));
      upload("/api/media/recognize-cover", "cover", file).then(function (result) {
        results.textContent = "";
        if (!result.ok) { show(errors, message(result.body)); return; }
        hide(errors);
        var found = result.body.result;
        if (found.title_candidates.length) {
          results.appendChild(el("p", { className: "text-muted", text: "Read: " + found.title_candidates.join(" · ") }));
        }
        if (!found.tmdb_matches.length) {
          results.appendChild(el("p", { text: found.detail || "No title on TMDB matches what the photo shows." }));
        }
        found.tmdb_matches.forEach(function (tmdb) {
          results.appendChild(matchCard(tmdb.title + (tmdb.year ? " (" + tmdb.year + ")" : ""), tmdb.overview ? tmdb.overview.slice(0, 140) : "",
            tmdb.poster_url, function () { return addFound(tmdb, {}); }));
        });
      });
    });

    loadJobs();
  };

  // --- members --------------------------------------------------------------------------------
  pages.members = function () {
    var spaceId = page.getAttribute("data-space-id");
    var myRole = page.getAttribute("data-my-role");
    var drawer = document.getElementById("member-drawer");
    var selected = null;

    function load() {
      api("GET", "/api/spaces/" + spaceId + "/members").then(function (result) {
        var rows = (result.body && result.body.result || []).map(function (m) {
          var row = el("tr", { "data-user-id": String(m.user_id), className: "boxset-clickable" }, [
            el("td", { text: m.name }), el("td", { text: m.email }), el("td", { text: m.role }),
            el("td", { text: when(m.last_login_at) })
          ]);
          row.addEventListener("click", function () { open(m, row); });
          return row;
        });
        fill(document.getElementById("members-body"), rows, "No members.", 4);
      });
    }

    function open(member, row) {
      selected = member;
      Array.prototype.forEach.call(document.querySelectorAll("#members-body tr"), function (r) { r.classList.remove("boxset-selected"); });
      row.classList.add("boxset-selected");
      drawer.querySelector("[data-field=name]").textContent = member.name;
      drawer.querySelector("[data-field=email]").textContent = member.email + " · " + member.role;
      var select = document.getElementById("member-role");
      select.value = member.role;
      Array.prototype.forEach.call(select.options, function (option) {
        option.disabled = option.value === "owner" && myRole !== "owner";
      });
      hide(drawer.querySelector("[data-errors]"));
      drawer.classList.remove("hidden");
      api("GET", "/api/admin/users/" + member.user_id + "/summary").then(function (result) {
        var s = result.body && result.body.result || {};
        drawer.querySelector("[data-field=last_login_at]").textContent = when(s.last_login_at);
        drawer.querySelector("[data-field=additions_count]").textContent = s.additions_count;
        drawer.querySelector("[data-field=last_edit_at]").textContent = when(s.last_edit_at);
        drawer.querySelector("[data-field=contribution_score]").textContent = s.contribution_score;
      });
    }

    document.getElementById("member-role-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var role = document.getElementById("member-role").value;
      api("PATCH", "/api/spaces/" + spaceId + "/members/" + selected.user_id, { role: role }).then(function (r) {
        show(drawer.querySelector("[data-errors]"), r.ok ? "Saved." : message(r.body), r.ok ? "success" : "danger");
        if (r.ok) { load(); }
      });
    });
    document.getElementById("member-remove").addEventListener("click", function () {
      if (!selected || !window.confirm("Remove " + selected.email + " from this space?")) { return; }
      api("DELETE", "/api/spaces/" + spaceId + "/members/" + selected.user_id).then(function (r) {
        if (r.ok) { drawer.classList.add("hidden"); load(); } else { show(drawer.querySelector("[data-errors]"), message(r.body)); }
      });
    });
    load();
  };

  // --- invitations ----------------------------------------------------------------------------
  pages.invitations = function () {
    var statusSelect = document.getElementById("invite-status");

    function load() {
      api("GET", "/api/admin/invites?status=" + encodeURIComponent(statusSelect.value)).then(function (result) {
        var rows = (result.body && result.body.result || []).map(function (i) {
          var actions = i.status === "active" ? [button("Revoke", "danger", function () {
            api("PATCH", "/api/admin/invites/" + i.id + "/revoke").then(load);
          })] : [];
          return el("tr", {}, [
            el("td", { text: i.email || "anyone with the link" }), el("td", { text: i.role }),
            el("td", { text: i.status }), el("td", { text: i.created_by_email || "—" }),
            el("td", { text: when(i.expires_at) }), el("td", { text: i.used_by_email || "—" }),
            el("td", {}, actions)
          ]);
        });
        fill(document.getElementById("invites-body"), rows, "No invitations to show.", 7);
      });
    }

    var form = document.getElementById("invite-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = formData(form);
      data.expires_in_days = Number(data.expires_in_days);
      if (!data.email) { data.email = null; }
      api("POST", "/api/admin/invites", data).then(function (result) {
        var box = document.getElementById("invite-link");
        hide(page.querySelector("[data-errors]"));
        if (result.ok) {
          show(box, "Send this link; it is shown only now: " + result.body.result.invite_url, "success");
          box.setAttribute("data-invite-url", result.body.result.invite_url);
          form.reset();
          load();
        } else { show(page.querySelector("[data-errors]"), message(result.body)); }
      });
    });
    statusSelect.addEventListener("change", load);
    load();
  };

  // --- activity -------------------------------------------------------------------------------
  pages.activity = function () {
    var form = document.getElementById("activity-form");

    function offerUndo(cell, mergeId) {
      api("GET", "/api/media/merges/" + mergeId).then(function (result) {
        if (!result.ok || !result.body.result.can_undo) { return; }
        cell.appendChild(document.createTextNode(" "));
        cell.appendChild(button("Undo merge", "default", function () {
          if (!window.confirm("Undo this merge? The merged items come back as they were.")) { return; }
          api("POST", "/api/media/merges/" + mergeId + "/undo").then(function (undo) {
            if (undo.ok) { load(); } else { show(page.querySelector("[data-errors]"), message(undo.body)); }
          });
        }, { "data-undo-merge": String(mergeId) }));
      });
    }

    function load() {
      var data = formData(form);
      var params = [];
      Object.keys(data).forEach(function (key) {
        var value = data[key];
        if (!value) { return; }
        if (key === "from") { value = value + "T00:00:00Z"; }
        if (key === "to") { value = value + "T23:59:59Z"; }
        params.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
      });
      api("GET", "/api/admin/activity?" + params.join("&")).then(function (result) {
        var errors = page.querySelector("[data-errors]");
        if (!result.ok) { show(errors, message(result.body)); return; }
        hide(errors);
        document.getElementById("activity-count").textContent = result.body.count + " entries";
        var rows = result.body.result.map(function (e) {
          var action = el("td", { text: e.action });
          if (e.action === "media.merge" && e.details && e.details.merge_id) { offerUndo(action, e.details.merge_id); }
          return el("tr", {}, [
            el("td", { text: when(e.created_at) }), el("td", { text: e.user_email || "—" }),
            action, el("td", { text: (e.entity_type || "") + (e.entity_id ? " #" + e.entity_id : "") }),
            el("td", { className: "details", text: JSON.stringify(e.details) }),
            el("td", { text: e.ip || "" }), el("td", { text: (e.request_id || "").slice(0, 12) })
          ]);
        });
        fill(document.getElementById("activity-body"), rows, "Nothing matches.", 7);
      });
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    load();
  };

  if (name && pages[name]) { pages[name](); }
}());
