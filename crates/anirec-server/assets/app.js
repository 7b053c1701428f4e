// anirec page script: the "new here?" favourites flow (title search, ratings, MyAnimeList upload),
// live updates when a result card is rated, "Plan to watch" and "Not interested" on every card
// (each with Undo), and for a signed-in fan the list: ratings go on it,
// "My list" edits in place, imports an export, and takes in favourites picked before signing in.
// The server renders (and escapes) every card; this script only builds small lists with
// textContent and puts server-rendered fragments in place. A cover picture that fails to load
// is removed, so its placeholder (the title's initials) shows instead of a broken picture.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const results = $("results");
  const STORE = "anirec.favourites";
  /** The list statuses, as the API names them and as a fan reads them. */
  const STATUS_LABELS = { watching: "Watching", completed: "Completed", on_hold: "On hold", dropped: "Dropped", plan_to_watch: "Plan to watch" };
  const TITLES = "anirec.titles";

  // Covers: a picture that fails (now, or later when a lazy one loads) leaves its placeholder.
  const isCover = (el) => el instanceof HTMLImageElement && el.parentElement && el.parentElement.classList.contains("cover");
  document.addEventListener("error", (e) => { if (isCover(e.target)) e.target.remove(); }, true);
  for (const img of document.querySelectorAll(".cover img")) {
    if (img.complete && img.naturalWidth === 0) img.remove();
  }

  /** A small cover with its placeholder, as the server's cards have (a title's initials: the first
   * letter or digit of its first two words). */
  function coverOf(anime, title) {
    const box = document.createElement("span");
    box.className = "cover c" + (anime.anime_id % 8);
    const initials = document.createElement("span");
    initials.className = "initials";
    initials.setAttribute("aria-hidden", "true");
    initials.textContent = title.split(/\s+/).map((w) => (w.match(/[\p{L}\p{N}]/u) || [""])[0]).join("").slice(0, 2).toUpperCase() || "?";
    box.append(initials);
    if (anime.cover) {
      const img = document.createElement("img");
      Object.assign(img, { src: anime.cover, alt: "", width: 36, height: 51, loading: "lazy", decoding: "async", referrerPolicy: "no-referrer" });
      box.append(img);
    }
    return box;
  }

  /** The kinds of title (romaji, english, japanese) that `titles` holds, the fan's `order` first. */
  function inOrder(titles, order) {
    return [order, ...["english", "romaji", "japanese"].filter((k) => k !== order)].filter((k) => titles[k]);
  }

  /** Puts a title of the given kind in `link`, marked Japanese where it is. */
  function showTitle(link, kind, text) {
    link.textContent = text;
    if (kind === "japanese") link.lang = "ja"; else link.removeAttribute("lang");
  }

  /** Shows each card's titles, and each single title link (My list's rows), in the fan's order
   * (romaji, English or Japanese first), kept in the browser; the server renders English first. */
  function applyTitleOrder(root) {
    const order = localStorage.getItem(TITLES) || "english";
    for (const box of root.querySelectorAll(".titles[data-romaji]")) {
      const t = { romaji: box.dataset.romaji, english: box.dataset.english, japanese: box.dataset.japanese };
      const keys = inOrder(t, order);
      const link = box.querySelector("h3 a");
      // Once per card and order: the observer below sees this function's own edits too.
      if (!link || keys.length === 0 || box.dataset.shown === order) continue;
      box.dataset.shown = order;
      showTitle(link, keys[0], t[keys[0]]);
      for (const p of box.querySelectorAll("p")) p.remove();
      for (const k of keys.slice(1)) {
        if (t[k] === t[keys[0]]) continue;
        const p = document.createElement("p");
        p.className = k === "japanese" ? "jp" : "alt";
        if (k === "japanese") p.lang = "ja";
        p.textContent = t[k];
        box.append(p);
      }
    }
    for (const link of root.querySelectorAll("a[data-romaji]")) {
      const kind = inOrder(link.dataset, order)[0];
      if (!kind || link.dataset.shown === order) continue;
      link.dataset.shown = order;
      showTitle(link, kind, link.dataset[kind]);
    }
  }
  const titleOrder = $("title-order");
  if (titleOrder) {
    titleOrder.value = localStorage.getItem(TITLES) || "english";
    titleOrder.addEventListener("change", () => {
      localStorage.setItem(TITLES, titleOrder.value);
      applyTitleOrder(document);
    });
    applyTitleOrder(document);
    // Cards the page puts in later (fragments) follow the same order.
    new MutationObserver(() => applyTitleOrder(document)).observe(document.querySelector("main"), { childList: true, subtree: true });
  }

  /** Filter fields of the page as a query string (same names as the API). */
  function filterQuery() {
    const box = $("filters");
    const q = new URLSearchParams();
    if (!box) return q;
    for (const el of box.querySelectorAll("select, input")) {
      if (el.type === "checkbox") {
        if (el.checked) q.set(el.name, "true");
      } else if (el.value.trim() !== "") {
        q.set(el.name, el.value.trim());
      }
    }
    return q;
  }

  function setStatus(text) {
    const status = $("fav-status");
    if (status) status.textContent = text;
  }

  /** The last ratings body the results were asked with ({ body, contentType }), so that
   *  "Show more" asks for the same list's next page. */
  let lastPost = null;

  /** The result cards' HTML from `offset` on: the signed-in fan's own list on My list, else the
   *  last ratings body posted (favourites, an upload, a known user with the cards they rated). */
  function fetchCards(offset) {
    // A page that is its list (story search, similar anime): the same page further on.
    if (results.dataset.moreFrom === "page") {
      const url = new URL(location.href);
      url.searchParams.set("offset", String(offset));
      return fetch(url);
    }
    const query = filterQuery();
    if (offset) query.set("offset", String(offset));
    if (mine) return fetch("/fragments/me/recommendations?" + query);
    const post = lastPost || (knownUser && { body: { user_id: Number(knownUser), ratings: [] }, contentType: "application/json" });
    if (!post) return Promise.reject(new Error("there is no list to continue"));
    return fetch("/fragments/recommendations?" + query, {
      method: "POST",
      headers: { "Content-Type": post.contentType },
      body: post.contentType === "application/json" ? JSON.stringify(post.body) : post.body,
    });
  }

  /** Posts a ratings body (JSON object or XML text) and shows the returned cards. */
  async function showRecommendations(body, contentType) {
    if (!results) return;
    results.setAttribute("aria-busy", "true");
    lastPost = { body, contentType };
    try {
      const response = await fetchCards(0);
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        setStatus(problem.detail || "Something went wrong (" + response.status + ").");
        return false;
      }
      results.innerHTML = await response.text();
      return true;
    } catch (e) {
      setStatus("The server could not be reached: " + e.message);
      return false;
    } finally {
      results.removeAttribute("aria-busy");
    }
  }

  /** "Show more": the list's next page after its last card; the keyboard moves to the first new
   *  card, and the button is replaced by the next page's (or goes at the list's end). */
  async function showMore(button) {
    const more = button.closest(".more");
    const grid = more && more.previousElementSibling;
    // The list's section: #results, or another list of the page (this season's on the home page).
    const holder = more && more.parentElement.closest("[id]");
    if (!grid || !holder) return;
    button.disabled = true;
    try {
      // data-more-href: a page whose same section continues the list; else the results' source.
      const href = button.dataset.moreHref;
      const response = await (href ? fetch(href) : fetchCards(Number(button.dataset.more)));
      if (!response.ok) throw new Error((await response.json().catch(() => ({}))).detail || "the server answered " + response.status);
      const page = document.createElement("template");
      page.innerHTML = await response.text();
      // A fragment is the list; a whole page holds it in the section of the same id.
      const root = page.content.querySelector("#" + holder.id) || page.content;
      const list = [...root.children].find((el) => el.classList.contains("grid"));
      const cards = list ? [...list.children] : [];
      grid.append(...cards);
      const next = [...root.children].find((el) => el.classList.contains("more"));
      if (next) more.replaceWith(next);
      else more.remove();
      markActions(grid);
      // The keyboard on the first new card says what happened; an empty page, that it ended.
      const first = cards.find((c) => !c.hidden);
      if (first) first.querySelector("h3 a").focus();
      else toast("That was the whole list.");
    } catch (e) {
      button.disabled = false;
      toast("No more could be shown: " + e.message);
    }
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-more]");
    if (button) showMore(button);
  });

  // ---- A signed-in fan: the list lives on the server. ----
  const signedIn = document.body.dataset.signedIn;
  const mine = results && results.dataset.mine;

  /** Adds or replaces an entry of the fan's list. */
  function putEntry(animeId, entry) {
    return listCall("PUT", "/api/v1/me/list/" + animeId, entry);
  }

  /** Sends a request of the fan's list API; throws with the server's reason when refused. */
  async function listCall(method, path, body) {
    const init = { method };
    if (body) Object.assign(init, { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const response = await fetch(path, init);
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || "the server answered " + response.status);
    }
  }

  /** The signed-in fan's cards again, after the list changed. */
  async function refreshMine() {
    const response = await fetchCards(0).catch(() => null);
    if (response && response.ok) results.innerHTML = await response.text();
  }

  function say(id, text) {
    const el = $(id);
    if (el) el.textContent = text;
  }

  // ---- Known user page: rating a card folds the rating in on top of the user's own. ----
  const knownUser = results && results.dataset.user;
  const extra = new Map();

  // ---- Home page: favourites. ----
  let favourites = [];
  try {
    favourites = JSON.parse(localStorage.getItem(STORE) || "[]").filter(
      (f) => Number.isInteger(f.anime_id) && Number.isInteger(f.rating),
    );
    // A favourite without a status is a rated one (completed); "plan to watch" has rating 0.
    for (const f of favourites) if (!STATUS_LABELS[f.status] || f.status === "completed") delete f.status;
  } catch {
    favourites = [];
  }

  function save() {
    try {
      localStorage.setItem(STORE, JSON.stringify(favourites));
    } catch {
      /* private mode: favourites last for this page only */
    }
  }

  function renderFavourites() {
    const list = $("fav-list");
    if (!list) return;
    list.replaceChildren();
    for (const f of favourites) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = f.title;
      if (f.status) {
        const status = document.createElement("span");
        status.className = "hint";
        status.textContent = STATUS_LABELS[f.status].toLowerCase();
        name.append(" ", status);
      }
      const select = document.createElement("select");
      select.setAttribute("aria-label", "Your rating of " + f.title);
      // An unscored favourite (planned, or watching) shows its status, not a score it lacks.
      if (!f.rating) select.hidden = true;
      for (let s = 10; s >= 1; s--) {
        const o = new Option(String(s), String(s), false, s === f.rating);
        select.append(o);
      }
      select.addEventListener("change", () => {
        f.rating = Number(select.value);
        changed();
      });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + f.title);
      remove.addEventListener("click", () => {
        favourites = favourites.filter((x) => x !== f);
        changed();
      });
      li.append(name, select, remove);
      list.append(li);
    }
  }

  /** The home page's results show the favourites' recommendations; other pages' results (story
   *  search, a known user's list) are their own and are never replaced by them. */
  const favouritesResults = results && results.dataset.favourites;

  function changed() {
    save();
    renderFavourites();
    if (!favouritesResults) return;
    if (favourites.length === 0) {
      if (results) results.replaceChildren();
      setStatus("");
      return;
    }
    setStatus("Recommending from " + favourites.length + " favourite" + (favourites.length > 1 ? "s" : "") + "…");
    showRecommendations(
      { ratings: favourites.map((f) => ({ anime_id: f.anime_id, rating: f.rating, ...(f.status && { status: f.status }) })) },
      "application/json",
    ).then((ok) => ok && setStatus("Updated from your " + favourites.length + " favourite" + (favourites.length > 1 ? "s." : ".")));
  }

  function addFavourite(animeId, title, rating) {
    const existing = favourites.find((f) => f.anime_id === animeId);
    if (existing) {
      existing.rating = rating;
      delete existing.status;
    } else favourites.push({ anime_id: animeId, title, rating });
    changed();
  }

  // ---- Every card and anime page: "Plan to watch" and "Not interested", each with Undo. Signed
  // in they write the stored list; otherwise the browser's favourites (a plan counts a little
  // for the recommendations) and its own "not interested" set. ----
  const HIDDEN = "anirec.hidden";
  let hidden = new Set();
  try {
    hidden = new Set(JSON.parse(localStorage.getItem(HIDDEN) || "[]").filter(Number.isInteger));
  } catch {
    hidden = new Set();
  }
  function saveHidden() {
    try {
      localStorage.setItem(HIDDEN, JSON.stringify([...hidden]));
    } catch {
      /* private mode: kept for this page only */
    }
  }

  /** Says `text` in `box`, with an Undo button when `undo` is given: a click runs `undo` and
   * says what it answers (or why it failed). `focus` moves the keyboard to the button. */
  function offerUndo(box, text, undo, focus) {
    box.replaceChildren(text);
    if (!undo) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "ghost";
    button.textContent = "Undo";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        box.replaceChildren(await undo());
      } catch (e) {
        box.replaceChildren("Not undone: " + e.message);
      }
    });
    box.append(button);
    if (focus) button.focus();
  }

  /** Says what an action did on the page's status line, with Undo when it can be undone. */
  function toast(text, undo) {
    const box = $("toast");
    if (box) offerUndo(box, text, undo, false);
  }

  /** Hides (or shows again) the cards of one anime, and marks its page's button. */
  function showHidden(id, on) {
    for (const card of document.querySelectorAll('article.card[data-anime-id="' + id + '"]')) card.hidden = on;
    for (const b of document.querySelectorAll('[data-actions="' + id + '"] [data-act=hide]')) b.setAttribute("aria-pressed", String(on));
  }

  /** The signed-in fan's list entries ({status, score, episodes}) by anime id, once read. */
  const onList = new Map();

  /** The fan's entry for an anime: the stored list's when signed in, the favourites' otherwise;
   * null when there is none. */
  function entryOf(id) {
    if (signedIn) return onList.get(id) || null;
    const f = favourites.find((x) => x.anime_id === id);
    return f ? { status: f.status || "completed", score: f.rating, episodes: 0 } : null;
  }

  /** An entry in words: "watching, 3 of 12 episodes, scored 8". */
  function describe(entry, total) {
    const parts = [STATUS_LABELS[entry.status].toLowerCase()];
    if (entry.episodes) parts.push(entry.episodes + (total ? " of " + total : "") + " episodes");
    if (entry.score) parts.push("scored " + entry.score);
    return parts.join(", ");
  }

  /** Writes the fan's entry for an anime (null: takes it off) and returns the one it replaced. */
  async function setEntry(id, title, entry) {
    const before = entryOf(id);
    if (signedIn) {
      if (entry) await putEntry(id, entry);
      else await listCall("DELETE", "/api/v1/me/list/" + id);
      if (entry) onList.set(id, entry);
      else onList.delete(id);
    } else {
      const at = favourites.findIndex((f) => f.anime_id === id);
      const f = entry && { anime_id: id, title, rating: entry.score, ...(entry.status !== "completed" && { status: entry.status }) };
      if (f && at >= 0) favourites[at] = f;
      else if (f) favourites.push(f);
      else if (at >= 0) favourites.splice(at, 1);
      changed();
    }
    markActions(document);
    return before;
  }

  /** Says what an edit did, with an Undo that puts back the entry it replaced. */
  function saidEdit(id, title, entry, before, total) {
    const where = signedIn ? "your list" : "your favourites";
    const text = entry ? title + " is on " + where + " as " + describe(entry, total) + "." : "Took " + title + " off " + where + ".";
    toast(text, async () => {
      await setEntry(id, title, before);
      return before ? "Put back " + title + " as " + describe(before, total) + "." : "Took " + title + " off " + where + ".";
    });
  }

  /** Sets an entry and says so; a refusal is said with the server's reason. */
  async function edit(id, title, entry, total) {
    try {
      saidEdit(id, title, entry, await setEntry(id, title, entry), total);
    } catch (e) {
      toast(title + " was not saved: " + e.message);
      markActions(document);
    }
  }

  /** A select with these (value, label) options. */
  function selectOf(label, options) {
    const select = document.createElement("select");
    select.setAttribute("aria-label", label);
    for (const [value, text] of options) select.append(new Option(text, value));
    return select;
  }

  /** The status, score and (signed in) episodes of one anime's entry, built when first opened:
   * each change is written at once, said, and can be undone; "+1" counts an episode and
   * completes the entry at the last one. */
  function editorFor(box) {
    const id = Number(box.dataset.actions);
    const title = box.dataset.title;
    const total = Number(box.dataset.episodes) || 0;
    const editor = document.createElement("div");
    editor.className = "entry-editor";
    const where = signedIn ? "your list" : "your favourites";
    const status = selectOf("Status of " + title, [["", "Not on " + where], ...Object.entries(STATUS_LABELS)]);
    const score = selectOf("Your score of " + title, [["0", "No score"], ...[10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => [String(n), String(n)])]);
    editor.append(status, score);
    let episodes = null;
    if (signedIn) {
      // A span, not a label: the field's name is its aria-label, which " / 12" would contradict.
      const count = document.createElement("span");
      episodes = document.createElement("input");
      Object.assign(episodes, { type: "number", min: 0, inputMode: "numeric", className: "episodes" });
      if (total) episodes.max = total;
      episodes.setAttribute("aria-label", "Episodes of " + title + " watched");
      const plus = document.createElement("button");
      plus.type = "button";
      plus.className = "ghost";
      plus.textContent = "+1";
      plus.setAttribute("aria-label", "+1 episode of " + title);
      count.append(episodes, total ? " / " + total : " episodes");
      editor.append(count, plus);
      plus.addEventListener("click", () => {
        const next = wanted(null);
        next.episodes += 1;
        if (next.status === "plan_to_watch") next.status = "watching";
        if (total && next.episodes === total && next.status === "watching") next.status = "completed";
        edit(id, title, next, total);
      });
    }
    /** The entry the fields ask for; a score alone means completed, episodes alone watching,
     * and nothing at all (or "not on the list" chosen) no entry. */
    function wanted(changedField) {
      if (changedField === status && status.value === "") return null;
      if (!status.value && !Number(score.value) && !(episodes && Number(episodes.value))) return null;
      const s = status.value || (Number(score.value) ? "completed" : "watching");
      return { status: s, score: Number(score.value), episodes: episodes ? Number(episodes.value) || 0 : 0 };
    }
    editor.addEventListener("change", (event) => edit(id, title, wanted(event.target), total));
    editor.fill = () => {
      const e = entryOf(id);
      status.value = e ? e.status : "";
      score.value = String(e ? e.score : 0);
      if (episodes) episodes.value = String(e ? e.episodes : 0);
    };
    editor.fill();
    return editor;
  }

  /** Opens (or closes) an anime's entry editor below its action buttons. */
  function toggleEditor(box, open, focus) {
    const button = box.querySelector("[data-act=edit]");
    let editor = box.nextElementSibling && box.nextElementSibling.classList.contains("entry-editor") ? box.nextElementSibling : null;
    if (!editor && open) {
      editor = editorFor(box);
      box.after(editor);
    }
    if (editor) editor.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open && focus) editor.querySelector("select").focus();
  }

  /** Marks each action button with what the fan already chose, and refills open editors. */
  function markActions(root) {
    for (const box of root.querySelectorAll("[data-actions]")) {
      const id = Number(box.dataset.actions);
      const entry = entryOf(id);
      const plan = box.querySelector("[data-act=plan]");
      plan.setAttribute("aria-pressed", String(Boolean(entry)));
      plan.textContent = !entry ? "Plan to watch" : entry.status === "plan_to_watch" ? "Planned" : "On your list";
      if (!signedIn && hidden.has(id)) showHidden(id, true);
    }
    for (const editor of root.querySelectorAll(".entry-editor")) editor.fill();
  }

  async function plan(id, title) {
    if (entryOf(id)) return toast(title + " is already on " + (signedIn ? "your list." : "your favourites."));
    return edit(id, title, { status: "plan_to_watch", score: 0, episodes: 0 }, 0);
  }

  async function notInterested(id, title) {
    if (signedIn) await listCall("PUT", "/api/v1/me/not-interested/" + id);
    else {
      hidden.add(id);
      saveHidden();
    }
    showHidden(id, true);
    toast(title + " will not be recommended to you.", async () => {
      if (signedIn) await listCall("DELETE", "/api/v1/me/not-interested/" + id);
      else {
        hidden.delete(id);
        saveHidden();
      }
      showHidden(id, false);
      return title + " can be recommended again.";
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-actions] button[data-act]");
    if (!button) return;
    const box = button.closest("[data-actions]");
    if (button.dataset.act === "edit") return toggleEditor(box, button.getAttribute("aria-expanded") !== "true", true);
    const id = Number(box.dataset.actions);
    const title = box.dataset.title;
    const act = button.dataset.act === "plan" ? plan : notInterested;
    act(id, title).catch((e) => toast("Nothing changed for " + title + ": " + e.message));
  });
  if (signedIn && document.querySelector("[data-actions]")) {
    fetch("/api/v1/me/list")
      .then((r) => (r.ok ? r.json() : { items: [] }))
      .then(({ items }) => {
        for (const e of items) onList.set(e.anime_id, { status: e.status, score: e.score, episodes: e.episodes });
        markActions(document);
      })
      .catch(() => {});
  }
  // The anime page opens its editor at once.
  for (const box of document.querySelectorAll("[data-actions][data-open]")) toggleEditor(box, true);
  markActions(document);
  // Cards the page puts in later (fragments) are marked too.
  if (results) new MutationObserver(() => markActions(results)).observe(results, { childList: true });

  // Title search: a combobox (ARIA 1.2) whose options are the matching titles, with type, year,
  // members and cover. Arrow keys move through them, Enter picks one, Escape closes the list
  // (and empties the field when it is closed already). A pick asks for a score, or plan to watch.
  const search = $("fav-search");
  const suggestions = $("fav-suggestions");
  const matches = $("fav-matches");
  const prompt = $("fav-prompt");
  let timer = 0;
  let asked = 0;
  let active = -1;
  let pending = null;

  function options() {
    return [...suggestions.querySelectorAll("[role=option]")];
  }

  function closeSuggestions() {
    asked++;
    suggestions.replaceChildren();
    suggestions.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function setActive(i) {
    const all = options();
    if (!all.length) return;
    active = (i + all.length) % all.length;
    all.forEach((o, j) => o.setAttribute("aria-selected", String(j === active)));
    search.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }

  /** Asks how the fan liked the picked anime: a score, or plan to watch instead. */
  function askScore(animeId, title) {
    closeSuggestions();
    matches.textContent = "";
    pending = { animeId, title };
    $("fav-prompt-text").textContent = "How did you like " + title + "?";
    prompt.hidden = false;
    $("fav-score").focus();
  }

  function closePrompt() {
    prompt.hidden = true;
    pending = null;
    search.value = "";
    search.focus();
  }

  async function suggest() {
    const q = search.value.trim();
    const ticket = ++asked;
    if (q.length < 2) {
      closeSuggestions();
      matches.textContent = "";
      return;
    }
    const params = new URLSearchParams({ q, k: "8" });
    if (filterQuery().get("include_adult")) params.set("include_adult", "true");
    const response = await fetch("/api/v1/anime?" + params).catch(() => null);
    if (!response || !response.ok || ticket !== asked) return;
    const { items } = await response.json();
    if (ticket !== asked) return;
    suggestions.replaceChildren();
    active = -1;
    search.removeAttribute("aria-activedescendant");
    items.forEach((a, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.id = "fav-option-" + i;
      li.dataset.animeId = String(a.anime_id);
      const title = a.english_name || a.name;
      const facts = document.createElement("span");
      facts.className = "facts-line";
      facts.textContent = [a.type, a.year, a.members ? a.members.toLocaleString("en") + " members" : null]
        .filter(Boolean)
        .join(" · ");
      const name = document.createElement("span");
      name.className = "option-title";
      name.textContent = title;
      li.append(coverOf(a, title), name, " ", facts);
      li.addEventListener("click", () => askScore(a.anime_id, title));
      suggestions.append(li);
    });
    suggestions.hidden = items.length === 0;
    search.setAttribute("aria-expanded", String(items.length > 0));
    matches.textContent = items.length
      ? items.length + (items.length === 1 ? " title matches" : " titles match") + "; the arrow keys choose one."
      : "No anime title matches \u201c" + q + "\u201d. Try another spelling, the English or the Japanese title.";
  }

  if (search && suggestions && prompt) {
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(suggest, 180);
    });
    search.addEventListener("keydown", (event) => {
      const open = !suggestions.hidden && options().length > 0;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        setActive(active + (event.key === "ArrowDown" ? 1 : -1) + (active < 0 && event.key === "ArrowUp" ? 1 : 0));
      } else if (event.key === "Enter") {
        if (!open) return;
        event.preventDefault();
        options()[Math.max(active, 0)].click();
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          closeSuggestions();
          matches.textContent = "";
        }
      }
    });
    $("fav-add").addEventListener("click", () => {
      if (pending) addFavourite(pending.animeId, pending.title, Number($("fav-score").value));
      closePrompt();
    });
    $("fav-plan").addEventListener("click", () => {
      const picked = pending;
      closePrompt();
      if (picked) plan(picked.animeId, picked.title).catch((e) => toast("Nothing changed for " + picked.title + ": " + e.message));
    });
    $("fav-cancel").addEventListener("click", closePrompt);
    prompt.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closePrompt();
    });
  }

  // MyAnimeList export upload (.xml, or .xml.gz unpacked here).
  const file = $("mal-file");
  if (file) {
    file.addEventListener("change", async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      setStatus("Reading " + f.name + "…");
      let text;
      try {
        const gz = new Uint8Array(await f.slice(0, 2).arrayBuffer());
        if (gz[0] === 0x1f && gz[1] === 0x8b) {
          text = await new Response(f.stream().pipeThrough(new DecompressionStream("gzip"))).text();
        } else {
          text = await f.text();
        }
      } catch (e) {
        setStatus("The file could not be read: " + e.message);
        return;
      }
      if (await showRecommendations(text, "application/xml")) setStatus("Recommendations from " + f.name + ".");
    });
  }

  const clear = $("fav-clear");
  if (clear) {
    clear.addEventListener("click", () => {
      favourites = [];
      if (file) file.value = "";
      changed();
    });
  }

  // Rating a result card.
  if (results) {
    results.addEventListener("change", (event) => {
      const select = event.target.closest("select[data-rate]");
      if (!select || select.value === "") return;
      const id = Number(select.dataset.rate);
      const rating = Number(select.value);
      if (signedIn) {
        const title = select.dataset.title || String(id);
        putEntry(id, { score: rating, status: "completed" })
          .then(() => {
            setStatus(title + " is on your list.");
            if (mine) refreshMine();
          })
          .catch((e) => setStatus("Your list was not changed: " + e.message));
        if (mine) return;
      }
      if (knownUser) {
        extra.set(id, rating);
        showRecommendations(
          { user_id: Number(knownUser), ratings: [...extra].map(([anime_id, r]) => ({ anime_id, rating: r })) },
          "application/json",
        );
      } else {
        addFavourite(id, select.dataset.title || String(id), rating);
      }
    });
  }

  // Filters re-rank the favourites at once on the home page.
  const filters = $("filters");
  if (filters && favouritesResults) {
    filters.addEventListener("change", () => favourites.length && changed());
  }

  // ---- Public profile: private until the fan makes it public, and back. ----
  const profileBox = $("profile");
  if (profileBox) {
    const toggle = $("profile-toggle");
    toggle.addEventListener("click", async () => {
      const makePublic = profileBox.dataset.public !== "true";
      const url = profileBox.dataset.url;
      toggle.disabled = true;
      try {
        await listCall("PUT", "/api/v1/me/profile", { public: makePublic });
        profileBox.dataset.public = String(makePublic);
        const text = $("profile-text");
        if (makePublic) {
          const link = document.createElement("a");
          link.href = url;
          link.textContent = location.origin + url;
          text.replaceChildren("Your list and picks are public at ", link, ': anyone with the link sees them (never your "not interested" anime, tokens or account).');
        } else {
          text.textContent = "Your list is private. Make it public to share your list and picks at " + url + ".";
        }
        toggle.textContent = makePublic ? "Make my list private" : "Make my list public";
        toast(makePublic ? "Your list is public at " + url + "." : "Your list is private again.");
      } catch (e) {
        toast("Your profile was not changed: " + e.message);
      } finally {
        toggle.disabled = false;
      }
    });
  }

  // ---- "My list": edits in place, removal, import, and favourites from before signing in. ----
  const table = $("my-list");
  if (table) {
    // Each field remembers its saved value: a refused edit goes back to it.
    for (const el of table.querySelectorAll("[name]")) el.dataset.saved = el.value;
    table.addEventListener("change", (event) => {
      const row = event.target.closest("tr[data-anime-id]");
      if (!row) return;
      const fields = [...row.querySelectorAll("[name]")];
      const field = (name) => row.querySelector("[name=" + name + "]").value;
      const title = row.dataset.title;
      putEntry(row.dataset.animeId, {
        score: Number(field("score")),
        status: field("status"),
        episodes: Number(field("episodes")) || 0,
      })
        .then(() => {
          for (const el of fields) el.dataset.saved = el.value;
          say("list-status", "Saved " + title + ".");
        })
        .catch((e) => {
          for (const el of fields) el.value = el.dataset.saved;
          say("list-status", title + " was not saved: " + e.message);
        });
    });
    table.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-remove]");
      if (!button) return;
      const row = button.closest("tr[data-anime-id]");
      const title = row.dataset.title;
      // What to put back on "Undo" (an entry the catalogue lacks has no fields to edit, and
      // cannot be put back by hand: importing the export again brings it back).
      const fields = ["score", "status", "episodes"].map((name) => row.querySelector("[name=" + name + "]"));
      const entry = fields.every(Boolean)
        ? { score: Number(fields[0].value), status: fields[1].value, episodes: Number(fields[2].value) || 0 }
        : null;
      try {
        await listCall("DELETE", "/api/v1/me/list/" + row.dataset.animeId);
      } catch {
        say("list-status", title + " was not removed.");
        return;
      }
      row.hidden = true;
      if (!entry) {
        say("list-status", "Removed " + title + ".");
        return;
      }
      const putBack = async () => {
        try {
          await putEntry(row.dataset.animeId, entry);
          row.hidden = false;
          return "Put back " + title + ".";
        } catch (e) {
          return title + " was not put back: " + e.message;
        }
      };
      offerUndo($("list-status"), "Removed " + title + ". ", putBack, true);
    });
  }

  const importFile = $("import-file");
  if (importFile) {
    importFile.addEventListener("change", async () => {
      const f = importFile.files && importFile.files[0];
      if (!f) return;
      say("import-status", "Importing " + f.name + "…");
      const head = new Uint8Array(await f.slice(0, 2).arrayBuffer());
      const gz = head[0] === 0x1f && head[1] === 0x8b;
      const response = await fetch("/api/v1/me/list/import", {
        method: "POST",
        headers: { "Content-Type": gz ? "application/gzip" : "application/xml" },
        body: f,
      }).catch(() => null);
      const answer = response ? await response.json().catch(() => ({})) : {};
      if (!response || !response.ok) {
        say("import-status", answer.detail || "The import failed.");
        return;
      }
      say("import-status", "Imported: " + answer.added + " added, " + answer.changed + " changed, " + answer.unchanged + " already there" +
        (answer.kept ? ", " + answer.kept + " kept as on your list (the export says not to update them)" : "") +
        (answer.not_in_catalogue ? "; " + answer.not_in_catalogue + " not in the catalogue yet (kept on your list, they count once it has them)." : "."));
      setTimeout(() => location.reload(), 600);
    });
  }

  const merge = $("merge");
  if (merge && signedIn && favourites.length) {
    merge.hidden = false;
    say("merge-text", "You picked " + favourites.length + " favourite" + (favourites.length > 1 ? "s" : "") + " in this browser before signing in: " + favourites.map((f) => f.title).join(", ") + ".");
    $("merge-button").addEventListener("click", async () => {
      try {
        for (const f of favourites) await putEntry(f.anime_id, { score: f.rating, status: f.status || "completed" });
      } catch (e) {
        say("merge-text", "Not all could be added: " + e.message);
        return;
      }
      favourites = [];
      save();
      location.reload();
    });
  }

  // ---- Account: API tokens (made with the password, shown once), password, deletion. ----
  /** Sends JSON to the API; the answer's JSON (or {}), and throws the problem's detail. */
  async function send(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || "the server answered " + response.status);
    return answer;
  }

  const tokenForm = $("token-form");
  if (tokenForm && signedIn) {
    tokenForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const made = await send("POST", "/api/v1/tokens", {
          username: signedIn,
          password: $("token-password").value,
          name: $("token-name").value.trim(),
        });
        const li = document.createElement("li");
        li.dataset.tokenId = String(made.id);
        const code = document.createElement("code");
        code.textContent = made.token;
        li.append(made.name + ": ", code, " (copy it now: it is not shown again)");
        $("tokens").append(li);
        tokenForm.reset();
        say("token-status", "Made the token " + made.name + ".");
      } catch (e) {
        say("token-status", "No token was made: " + e.message);
      }
    });
    $("tokens").addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-revoke]");
      if (!button) return;
      const li = button.closest("li[data-token-id]");
      try {
        await send("DELETE", "/api/v1/tokens/" + li.dataset.tokenId);
        li.remove();
        say("token-status", "Revoked.");
      } catch (e) {
        say("token-status", "Not revoked: " + e.message);
      }
    });
  }

  const passwordForm = $("password-form");
  if (passwordForm) {
    passwordForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await send("PUT", "/api/v1/me/password", { current: $("current-password").value, new: $("new-password").value });
        say("password-status", "Changed. Every session has ended and every API token is revoked: sign in with the new password.");
        setTimeout(() => location.assign("/signin"), 1200);
      } catch (e) {
        say("password-status", "Not changed: " + e.message);
      }
    });
  }

  const deleteForm = $("delete-form");
  if (deleteForm) {
    deleteForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await send("DELETE", "/api/v1/me", { password: $("delete-password").value });
        location.assign("/");
      } catch (e) {
        say("delete-status", "Not deleted: " + e.message);
      }
    });
  }

  renderFavourites();
  if (favourites.length && favouritesResults) changed();
})();
