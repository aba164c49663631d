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
  var FILTERS = ["genre", "director", "actor", "year_min", "year_max", "rating_min", "rating_max", "format", "resolution"];
  var TYPE_LABELS = { movie: "Movie", tv_series: "TV series", tv_episode: "TV episode", other: "Other" };

  function openDialog(dialog) {
    hide(dialog.querySelector("[data-errors]"));
    dialog.classList.remove("hidden");
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea, button");
    if (first) { first.focus(); }
  }

  function closeDialog(dialog) { dialog.classList.add("hidden"); }

  Array.prototype.forEach.call(document.querySelectorAll(".boxset-dialog"), function (dialog) {
    dialog.addEventListener("keydown", function (event) { if (event.key === "Escape") { closeDialog(dialog); } });
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

    function typeLabel(item) { return item.media_type === "movie" ? null : TYPE_LABELS[item.media_type]; }

    function card(item) {
      var poster = el("div", { className: "poster" }, [item.title]);
      if (item.thumb_url) {
        poster.textContent = "";
        poster.appendChild(el("img", { src: item.thumb_url, alt: "", loading: "lazy" }));
      }
      var details = [item.year, item.format, typeLabel(item)].filter(function (x) { return x; }).join(" · ");
      var node = el("div", {
        className: "boxset-card", "data-media-id": String(item.id), role: "button", tabindex: "0",
        "aria-label": item.title + (item.year ? " (" + item.year + ")" : "")
      }, [poster, el("div", { className: "meta" }, [el("strong", { text: item.title }), el("span", { className: "text-muted", text: details })])]);
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
        var errors = panel.querySelector("[data-errors]");
        if (!result.ok) {
          done = true;
          show(errors, message(result.body));
          panel.classList.remove("hidden");
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
        loading.classList.add("hidden");
        show(panel.querySelector("[data-errors]"), "The server could not be reached. Try again in a moment.");
      });
    }

    function restart() {
      generation += 1;
      grid.textContent = "";
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
      list.appendChild(el("dt", { text: label }));
      list.appendChild(el("dd", { text: Array.isArray(value) ? value.join(", ") : String(value) }));
    }

    function link(list, label, href, text) {
      if (!href) { return; }
      list.appendChild(el("dt", { text: label }));
      list.appendChild(el("dd", {}, [el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: text || href })]));
    }

    function table(headers, rows) {
      return el("table", { className: "table table-condensed" }, [
        el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { text: h }); }))]),
        el("tbody", {}, rows.map(function (cells) {
          return el("tr", {}, cells.map(function (c) { return el("td", { text: c === null || c === undefined ? "—" : String(c) }); }));
        }))
      ]);
    }

    function renderDrawer(item) {
      current = item;
      drawer.setAttribute("data-media-id", String(item.id));
      document.getElementById("drawer-title").textContent = item.title;
      drawer.querySelector("[data-subtitle]").textContent = [item.year, item.format, TYPE_LABELS[item.media_type]]
        .filter(function (x) { return x; }).join(" · ");
      var body = drawer.querySelector("[data-body]");
      body.textContent = "";
      if (item.cover_url) {
        body.appendChild(el("img", { className: "boxset-drawer-cover", src: item.cover_url, alt: "Cover of " + item.title }));
      }
      if (item.overview) { body.appendChild(el("p", { className: "boxset-overview", text: item.overview })); }
      var facts = el("dl", { className: "dl-horizontal boxset-facts" });
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
      if (item.seasons && item.seasons.length) {
        body.appendChild(el("h3", { text: "Seasons" }));
        body.appendChild(table(["Season", "Expected", "Owned", "Complete"], item.seasons.map(function (s) {
          return [s.season_number, s.expected_episodes, s.available_episodes, s.is_complete ? "yes" : "no"];
        })));
      }
      if (item.variants && item.variants.length) {
        body.appendChild(el("h3", { text: "Copies and editions" }));
        body.appendChild(table(["Edition", "Format", "Resolution", "Size", "Container", "Codecs"], item.variants.map(function (v) {
          return [v.edition, v.format, v.resolution, v.width && v.height ? v.width + "×" + v.height : null, v.container,
            [v.video_codec, v.audio_codec].filter(function (x) { return x; }).join(" / ") || null];
        })));
      }
      var meta = item.metadata ? Object.keys(item.metadata) : [];
      if (meta.length) {
        body.appendChild(el("h3", { text: "More" }));
        var extra = el("dl", { className: "dl-horizontal boxset-facts" });
        meta.forEach(function (key) { field(extra, key.replace(/_/g, " "), item.metadata[key]); });
        body.appendChild(extra);
      }
      drawer.querySelector("[data-actions]").classList.toggle("hidden", !mayChange(item));
    }

    function openDrawer(mediaId) {
      Array.prototype.forEach.call(grid.querySelectorAll(".boxset-selected"), function (n) { n.classList.remove("boxset-selected"); });
      var selectedCard = grid.querySelector("[data-media-id='" + mediaId + "']");
      if (selectedCard) { selectedCard.classList.add("boxset-selected"); }
      drawer.classList.remove("hidden");
      drawer.classList.add("boxset-busy");
      return api("GET", "/api/media/" + mediaId).then(function (result) {
        drawer.classList.remove("boxset-busy");
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
      var row = el("tr", { "data-season": "" }, [
        number("season_number", season.season_number, "Season number"),
        number("expected_episodes", season.expected_episodes, "Episodes expected"),
        number("available_episodes", season.available_episodes, "Episodes owned"),
        el("td", {}, [button("Remove", "link", function () { row.remove(); })])
      ]);
      seasonRows.appendChild(row);
      return row;
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

    function fillItemForm(item) {
      itemForm.reset();
      seasonRows.textContent = "";
      itemForm.querySelector("[data-cover-state]").textContent = item && item.cover_url ? "Has a cover; choose a file to replace it." : "";
      itemForm.elements.cover_key.value = "";
      if (item) {
        Array.prototype.forEach.call(itemForm.elements, function (input) {
          if (!input.name || input.type === "file" || input.closest("[data-season]") || !(input.name in item)) { return; }
          if (input.name === "cover_key") { return; }
          var value = item[input.name];
          input.value = value === null || value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value);
        });
        (item.seasons || []).forEach(seasonRow);
      }
      adaptToType();
    }

    function openItemDialog(item) {
      editing = item;
      document.getElementById("item-dialog-title").textContent = item ? "Edit " + item.title : "Add item";
      fillItemForm(item);
      openDialog(itemDialog);
    }

    itemForm.elements.cover.addEventListener("change", function () {
      var file = itemForm.elements.cover.files[0];
      var state = itemForm.querySelector("[data-cover-state]");
      var save = itemForm.querySelector("[data-save]");
      itemForm.elements.cover_key.value = "";
      if (!file) { state.textContent = ""; return; }
      var upload = new FormData();
      upload.append("cover", file);
      state.textContent = "Uploading…";
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
        state.textContent = "";
        state.appendChild(el("img", { src: result.body.cover_url, alt: "", className: "boxset-cover-preview" }));
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
    itemDialog.querySelector("[data-close]").addEventListener("click", function () { closeDialog(itemDialog); });

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
    deleteDialog.querySelector("[data-confirm]").addEventListener("click", function () {
      var item = current;
      api("DELETE", "/api/media/" + item.id).then(function (result) {
        if (!result.ok) { show(deleteDialog.querySelector("[data-errors]"), message(result.body)); return; }
        closeDialog(deleteDialog);
        closeDrawer();
        restart();
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
        document.getElementById("duplicates-count").textContent = result.body.count ? result.body.count + " groups" : "";
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
