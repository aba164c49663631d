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
  pages.library = function () {
    var libraryId = page.getAttribute("data-library-id");
    api("POST", "/api/libraries/select", { library_id: Number(libraryId) });
    var form = document.getElementById("browse-form");
    var grid = document.getElementById("browse-items");
    var empty = document.getElementById("browse-empty");
    var loading = document.getElementById("browse-loading");
    var sentinel = document.getElementById("browse-more");
    var cursor = null;
    var busy = false;
    var done = false;
    var generation = 0;

    function setView(view) {
      grid.setAttribute("data-view", view);
      try { window.localStorage.setItem("boxset.view", view); } catch (e) { /* private mode */ }
    }
    var saved = null;
    try { saved = window.localStorage.getItem("boxset.view"); } catch (e) { saved = null; }
    setView(saved === "list" ? "list" : "grid");
    Array.prototype.forEach.call(form.querySelectorAll("[data-view]"), function (b) {
      b.addEventListener("click", function () { setView(b.getAttribute("data-view")); });
    });

    function card(item) {
      var poster = el("div", { className: "poster" }, [item.title]);
      if (item.thumb_url) {
        poster.textContent = "";
        poster.appendChild(el("img", { src: item.thumb_url, alt: item.title, loading: "lazy" }));
      }
      var details = [item.year, item.format, item.media_type === "movie" ? null : item.media_type.replace("_", " ")]
        .filter(function (x) { return x; }).join(" · ");
      return el("div", { className: "boxset-card", "data-media-id": String(item.id) }, [
        poster, el("div", { className: "meta" }, [el("strong", { text: item.title }), el("span", { className: "text-muted", text: details })])
      ]);
    }

    function query() {
      var data = formData(form);
      var sort = (data.sort || "title:asc").split(":");
      var params = ["library_id=" + libraryId, "limit=60", "sort_by=" + sort[0], "sort_dir=" + sort[1]];
      if (data.search) { params.push("search=" + encodeURIComponent(data.search)); }
      if (data.media_type) { params.push("media_type=" + data.media_type); }
      if (cursor) { params.push("cursor=" + encodeURIComponent(cursor)); }
      return "/api/media?" + params.join("&");
    }

    function more() {
      if (busy || done) { return; }
      busy = true;
      var mine = generation;
      loading.classList.remove("hidden");
      api("GET", query()).then(function (result) {
        if (mine !== generation) { return; }
        busy = false;
        loading.classList.add("hidden");
        if (!result.ok) { done = true; return; }
        result.body.result.forEach(function (item) { grid.appendChild(card(item)); });
        document.getElementById("browse-count").textContent = result.body.count + " items";
        empty.classList.toggle("hidden", result.body.count !== 0);
        cursor = result.body.next_cursor;
        done = !cursor;
      });
    }

    function restart() {
      generation += 1;
      grid.textContent = "";
      cursor = null;
      done = false;
      busy = false;
      more();
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); restart(); });
    form.addEventListener("change", function (event) {
      if (event.target.name !== "search") { restart(); }
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries[0].isIntersecting) { more(); }
      }, { rootMargin: "600px" }).observe(sentinel);
    }
    more();
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
          return el("tr", {}, [
            el("td", { text: when(e.created_at) }), el("td", { text: e.user_email || "—" }),
            el("td", { text: e.action }), el("td", { text: (e.entity_type || "") + (e.entity_id ? " #" + e.entity_id : "") }),
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
