// One Roundcube set-up for the webmail tests, all on loopback:
//
//   SMTP sink (this process)  <-  Roundcube 1.6 (Debian; Apache + mod_php, own config)  ->  Dovecot (IMAP)
//                                        ^
//   headless Chromium  ->  Envoy 1.40 with the shipped filter/envoy.yaml and the built filter
//
// Ports are never chosen and then released for another process to bind later (someone else could
// take them in between): the SMTP sink and Envoy bind port 0 and report what they got (Envoy
// through its admin address file and /listeners); Dovecot's socket is bound here and handed over
// as systemd's socket activation does (socket-activate.py); Apache can do neither, so its ports
// are chosen free and then proven to be held by Apache's own process (/proc), else it is started
// again on other ports.
//
// Apache and Dovecot run from config files in a temp dir, each in its own session (detached), so
// that stopping them never signals the test runner. The Debian packages are installed by
// scripts/ensure-tools.sh roundcube; the plugin is installed as an operator would (copied into
// plugins/ with the built web-lint package in its pkg/), in a private Roundcube tree that links
// Debian's code, so the system's Roundcube is never changed.
import { spawn, execFileSync } from "node:child_process";
import { createServer as netServer } from "node:net";
import { mkdtemp, writeFile, mkdir, cp, rm, readFile, chmod, symlink, readdir, readlink } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const USER = "ray.k@army.mil";
export const PASSWORD = "mistype-test";
// Debian's Roundcube tree and the SQLite database dbconfig-common created at install.
const RC_ROOT = "/var/lib/roundcube";
const DEBIAN_DB = "/var/lib/dbconfig-common/sqlite3/roundcube/roundcube";
// The plugin's policy (mistype_policy); see where the configuration is written.
const POLICY = '{"protected": ["northwind-defence.com"], "known": ["amry.mil"]}';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const exited = (c) => c.exitCode !== null || c.signalCode !== null;

/**
 * A port for a server that cannot take a socket or report its port (Apache): free when chosen,
 * so the caller must prove afterwards that its server holds it (`heldBy`).
 */
export function unusedPort() {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The inodes of the sockets listening on 127.0.0.1:`port` (/proc/net/tcp). */
async function listeningInodes(port) {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = [];
  for (const line of (await readFile("/proc/net/tcp", "utf8")).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address, state 0A = LISTEN, inode
    if (f[1] === want && f[3] === "0A") inodes.push(f[9]);
  }
  return inodes;
}

/** True when the process `pid` holds the socket listening on 127.0.0.1:`port`. */
export async function heldBy(pid, port) {
  const inodes = await listeningInodes(port);
  if (inodes.length === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m && inodes.includes(m[1])) return true;
  }
  return false;
}

/** Waits until `test()` is true; fails with `what` (and the child's output) if `child` exits. */
export async function until(test, what, child, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return;
    if (child && exited(child)) throw new Error(`${what}: the process exited\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${child ? child.output() : ""}`);
    await sleep(100);
  }
}

/**
 * A minimal SMTP server that accepts every message and keeps it: `messages` holds
 * `{from, rcpt: [...], data}`; `waitFor(pred)` resolves with the first message matching.
 */
export function smtpSink() {
  const messages = [];
  const waiters = [];
  const server = netServer((sock) => {
    sock.setEncoding("latin1");
    let buf = "";
    let inData = false;
    let cur = { from: null, rcpt: [], data: "" };
    const reply = (s) => sock.write(s + "\r\n");
    reply("220 sink.test ESMTP mistype test sink");
    sock.on("data", (chunk) => {
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          cur.data = buf.slice(0, end + 2).replace(/^\.\./gm, ".");
          buf = buf.slice(end + 5);
          inData = false;
          messages.push(cur);
          for (const w of [...waiters]) if (w.pred(cur)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(cur); }
          cur = { from: null, rcpt: [], data: "" };
          reply("250 2.0.0 queued");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") sock.write("250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
        else if (verb === "HELO") reply("250 sink.test");
        else if (verb === "MAIL") { cur.from = (/<([^>]*)>/.exec(line) || [])[1] || ""; reply("250 2.1.0 ok"); }
        else if (verb === "RCPT") { cur.rcpt.push((/<([^>]*)>/.exec(line) || [])[1] || ""); reply("250 2.1.5 ok"); }
        else if (verb === "DATA") { inData = true; reply("354 end with <CRLF>.<CRLF>"); }
        else if (verb === "RSET") { cur = { from: null, rcpt: [], data: "" }; reply("250 ok"); }
        else if (verb === "QUIT") { reply("221 bye"); sock.end(); return; }
        else reply("250 ok");
      }
    });
    sock.on("error", () => {});
  });
  return {
    messages,
    server,
    listen: () => new Promise((r) => server.listen(0, "127.0.0.1", () => r(server.address().port))),
    waitFor(pred, ms = 20_000) {
      const hit = messages.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) { waiters.splice(i, 1); reject(new Error("no matching message reached the SMTP sink")); }
        }, ms);
      });
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function detached(cmd, args, logFile, env = process.env, stdin = "ignore") {
  const out = [];
  const child = spawn(cmd, args, { detached: true, stdio: [stdin, "pipe", "pipe"], env });
  child.stdout.on("data", (d) => out.push(d));
  child.stderr.on("data", (d) => out.push(d));
  child.on("exit", () => writeFile(logFile, Buffer.concat(out)).catch(() => {}));
  child.output = () => Buffer.concat(out).toString();
  return child;
}

function killGroup(child, signal = "SIGTERM") {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** The first line `child` writes on stdout. */
function firstLine(child, what) {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        child.stdout.off("data", onData);
        resolve(buf.slice(0, nl));
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", () => reject(new Error(`${what} exited before it reported its ports\n${child.output()}`)));
  });
}

/** Reads Envoy's admin JSON at `pathAndQuery`. */
async function adminJson(admin, pathAndQuery) {
  const r = await fetch(new URL(pathAndQuery, admin));
  if (!r.ok) throw new Error(`Envoy admin ${pathAndQuery}: HTTP ${r.status}`);
  return r.json();
}

/** The larry skin's host name: Chromium resolves every *.localhost name to loopback itself. */
export const LARRY_HOST = "larry.localhost";
/** The host name of the site that sends over SMTP through Postfix and mistype-smtpd. */
export const SMTP_HOST = "smtp.localhost";

/**
 * mistype-smtpd (the built binary `bin`) and a private Postfix using it as its policy service
 * (scripts/private_postfix.py serve), relaying to the sink on `sinkPort`. Returns the Postfix
 * port; both go into `children`.
 */
async function startMta(repo, bin, sinkPort, dir, children) {
  // mistype-smtpd binds port 0 and logs the address it got (its start-up line's `listen=`).
  const smtpd = detached(bin, ["--policy-listen", "inet:127.0.0.1:0"], path.join(dir, "mistype-smtpd.log"));
  children.push(smtpd);
  let policyPort = 0;
  await until(async () => {
    const m = /listen="?(?:\S*,)?policy=inet:127\.0\.0\.1:(\d+)/.exec(smtpd.output());
    policyPort = m ? Number(m[1]) : 0;
    return policyPort > 0;
  }, "mistype-smtpd's listening line", smtpd);
  const pf = spawn("python3", [path.join(repo, "scripts", "private_postfix.py"), "serve", String(sinkPort), String(policyPort)], {
    detached: true,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(pf);
  pf.output = () => "";
  return JSON.parse(await firstLine(pf, "the private Postfix"));
}

/**
 * Starts everything; returns { url (elastic + plugin, through Envoy), larry (larry + plugin,
 * through the same Envoy), direct (elastic + plugin, Apache itself), plain (elastic without the
 * plugin, Apache itself), overSmtp (elastic without the plugin, sending through Postfix with
 * mistype-smtpd as its policy service, when opts.smtpd is given), admin (Envoy's admin),
 * counters() (the filter's counters), smtp, dir, stop() }.
 * opts: repo, pkgDir, wasm (the built filter), filterConfig (object, the plugin configuration),
 * smtpd (the built mistype-smtpd, optional).
 */
export async function startRoundcube(opts) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mistype-roundcube-"));
  await chmod(dir, 0o755);
  const smtp = smtpSink();
  const smtpPort = await smtp.listen();
  const children = [];
  const stop = async () => {
    for (const c of children) killGroup(c);
    for (let i = 0; i < 50 && !children.every(exited); i++) await new Promise((r) => setTimeout(r, 100));
    for (const c of children) killGroup(c, "SIGKILL");
    await smtp.close();
    if (!process.env.MISTYPE_KEEP_TMP) {
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => {});
    }
  };
  try {
    // --- Dovecot: one user in a passwd file, maildir under the temp dir. Its IMAP socket is
    // bound first (socket-activate.py), and Dovecot gets it when its configuration names it.
    const dovecot = detached(
      "python3",
      [path.join(here, "socket-activate.py"), "1", "--", "/usr/sbin/dovecot", "-F", "-c", path.join(dir, "dovecot.conf")],
      path.join(dir, "dovecot.out"),
      process.env,
      "pipe",
    );
    children.push(dovecot);
    const imapPort = Number(await firstLine(dovecot, "Dovecot's socket holder"));
    const mail = path.join(dir, "mail");
    await mkdir(mail, { recursive: true });
    execFileSync("chown", ["nobody:nogroup", mail]);
    await writeFile(path.join(dir, "users"), `${USER}:{PLAIN}${PASSWORD}\n`);
    await writeFile(
      path.join(dir, "dovecot.conf"),
      `base_dir = ${dir}/dovecot-run
state_dir = ${dir}/dovecot-state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = ${dir}/dovecot.log
mail_location = maildir:${mail}/%u
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${mail}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
    );
    dovecot.stdin.end("go\n");

    // --- A private Roundcube tree: Debian's code, skins and plugins linked, its own plugins/
    // folder (the plugin copied in, as an operator installs it), temp, logs and a copy of the
    // database, so that runs never touch the system's Roundcube or each other.
    const rc = path.join(dir, "rc");
    for (const d of ["plugins", "public_html", "temp", "logs", "db"]) await mkdir(path.join(rc, d), { recursive: true });
    for (const name of ["program", "skins", "SQL", "config", "index.php"]) {
      await symlink(path.join(RC_ROOT, name), path.join(rc, name));
    }
    for (const name of await readdir(path.join(RC_ROOT, "plugins"))) {
      await symlink(path.join(RC_ROOT, "plugins", name), path.join(rc, "plugins", name));
    }
    const plugin = path.join(rc, "plugins", "mistype");
    await cp(path.join(opts.repo, "integrations", "roundcube", "mistype"), plugin, { recursive: true });
    await cp(opts.pkgDir, path.join(plugin, "pkg"), { recursive: true });
    // The public entry point is copied, not linked: it finds the tree from its own folder.
    await cp(path.join(RC_ROOT, "public_html", "index.php"), path.join(rc, "public_html", "index.php"));
    await symlink("../plugins", path.join(rc, "public_html", "plugins"));
    await symlink("../skins", path.join(rc, "public_html", "skins"));
    await symlink(path.join(RC_ROOT, "public_html", "program"), path.join(rc, "public_html", "program"));
    const db = path.join(rc, "db", "roundcube.sqlite");
    await cp(DEBIAN_DB, db);
    execFileSync("chown", ["-R", "www-data:www-data", path.join(rc, "temp"), path.join(rc, "logs"), path.join(rc, "db")]);
    const docroot = path.join(rc, "public_html");

    // --- Roundcube's settings: Debian's config.inc.php stays; what differs comes from the
    // environment (ROUNDCUBE_<KEY>, which Roundcube reads over its files) and from our own
    // config dir, first in RCUBE_CONFIG_PATH.
    const rcConf = path.join(dir, "rcconfig");
    await mkdir(rcConf);
    await writeFile(
      path.join(rcConf, "config.inc.php"),
      // The plugin's policy differs from the filter's (the embedded default) both ways, as an
      // operator's two files may: it protects northwind-defence.com, which the filter does not,
      // so the compose check asks about northwind-defense.com and the filter lets it through;
      // and it knows amry.mil, which the filter refuses as a lookalike of army.mil.
      `<?php\n$config = [];\n$config['mistype_ask_on'] = 'warn';\n$config['mistype_policy'] = '${POLICY}';\n$config['log_driver'] = 'file';\n$config['log_dir'] = '${dir}/rclogs/';\n`,
    );
    await mkdir(path.join(dir, "rclogs"));
    execFileSync("chown", ["www-data:www-data", path.join(dir, "rclogs")]);
    const env = {
      RCUBE_CONFIG_PATH: `${rcConf}/`,
      ROUNDCUBE_IMAP_HOST: JSON.stringify([`127.0.0.1:${imapPort}`]),
      ROUNDCUBE_SMTP_HOST: `127.0.0.1:${smtpPort}`,
      ROUNDCUBE_SMTP_USER: "",
      ROUNDCUBE_SMTP_PASS: "",
      ROUNDCUBE_PLUGINS: JSON.stringify(["mistype"]),
      ROUNDCUBE_SKIN: "elastic",
      ROUNDCUBE_DRAFT_AUTOSAVE: "0",
      ROUNDCUBE_MAIL_DOMAIN: "army.mil",
      ROUNDCUBE_DB_DSNW: `sqlite:///${db}?mode=0640`,
    };
    const setEnv = (vars) =>
      Object.entries(vars)
        .map(([k, v]) => `  SetEnv ${k} "${v.replace(/"/g, '\\"')}"`)
        .join("\n");
    // Roundcube as it is, handing its mail to the organisation's Postfix over SMTP, where
    // mistype-smtpd is the policy service (docs/smtp.md).
    const mta = opts.smtpd ? await startMta(opts.repo, opts.smtpd, smtpPort, dir, children) : null;
    // Sites on one Roundcube: elastic with the plugin, and larry with the plugin (by host name,
    // on the port behind Envoy), elastic without it (for the browser extension), and, with an
    // MTA, elastic without it sending through that Postfix (by host name, on the plain port).
    // The two sites on 127.0.0.1 differ only by port, and a browser's cookies do not: the site
    // without the plugin has session cookies of its own names, so that logging in to one never
    // overwrites the other's session in the same browser.
    const ownSession = { ROUNDCUBE_SESSION_NAME: "plain_sessid", ROUNDCUBE_SESSION_AUTH_NAME: "plain_sessauth" };
    const sites = (httpPort, plainPort) => [
      [httpPort, "127.0.0.1", env],
      [httpPort, LARRY_HOST, { ...env, ROUNDCUBE_SKIN: "larry" }],
      [plainPort, "127.0.0.1", { ...env, ...ownSession, ROUNDCUBE_PLUGINS: "[]" }],
      ...(mta ? [[plainPort, SMTP_HOST, { ...env, ROUNDCUBE_PLUGINS: "[]", ROUNDCUBE_SMTP_HOST: `127.0.0.1:${mta.port}` }]] : []),
    ];
    const mods = "/usr/lib/apache2/modules";
    const apacheConf = (httpPort, plainPort) => `ServerRoot /etc/apache2
ServerName 127.0.0.1
PidFile ${dir}/apache.pid
Mutex file:${dir}
Listen 127.0.0.1:${httpPort}
Listen 127.0.0.1:${plainPort}
User www-data
Group www-data
ErrorLog ${dir}/apache-error.log
LogLevel warn
LoadModule mpm_prefork_module ${mods}/mod_mpm_prefork.so
LoadModule authz_core_module ${mods}/mod_authz_core.so
LoadModule mime_module ${mods}/mod_mime.so
LoadModule dir_module ${mods}/mod_dir.so
LoadModule env_module ${mods}/mod_env.so
LoadModule rewrite_module ${mods}/mod_rewrite.so
LoadModule php_module ${mods}/libphp8.2.so
StartServers 2
MinSpareServers 2
MaxSpareServers 4
TypesConfig /etc/mime.types
AddType application/wasm .wasm
DocumentRoot ${docroot}
DirectoryIndex index.php
<FilesMatch "\\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory ${docroot}/>
  # Debian's .htaccess (rewrites, PHP settings for uploads) is not needed on loopback.
  Options +FollowSymLinks
  AllowOverride None
  Require all granted
</Directory>
${sites(httpPort, plainPort)
  .map(([port, name, vars]) => `<VirtualHost 127.0.0.1:${port}>\n  ServerName ${name}\n${setEnv(vars)}\n</VirtualHost>`)
  .join("\n")}
`;
    // Apache neither takes a socket nor binds port 0: its ports are chosen free, and it must be
    // seen holding them itself; if another process took one first, Apache cannot bind and exits,
    // and it starts again on other ports.
    let apache = null;
    let httpPort = 0;
    let plainPort = 0;
    for (let attempt = 1; !apache; attempt++) {
      [httpPort, plainPort] = [await unusedPort(), await unusedPort()];
      await writeFile(path.join(dir, "apache.conf"), apacheConf(httpPort, plainPort));
      const child = detached("/usr/sbin/apache2", ["-f", path.join(dir, "apache.conf"), "-DFOREGROUND"], path.join(dir, "apache.out"), { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_LOG_DIR: dir });
      children.push(child);
      try {
        await until(async () => (await heldBy(child.pid, httpPort)) && (await heldBy(child.pid, plainPort)), "Apache", child);
        apache = child;
      } catch (e) {
        if (attempt === 3 || !/could not bind|Address already in use/.test(child.output())) throw e;
      }
    }

    // --- Envoy with the shipped config: listener -> Apache (cluster "webmail"). Its listener
    // and admin bind port 0; the admin address comes from --admin-address-path, the listener's
    // port from /listeners.
    // The shipped plugin configuration unless the test gives one.
    const configArgs = opts.filterConfig ? ["--config", JSON.stringify(opts.filterConfig, null, 2)] : [];
    const yaml = execFileSync("python3", [
      path.join(opts.repo, "demo", "render_envoy.py"),
      "--template", path.join(opts.repo, "filter", "envoy.yaml"),
      "--listen-port", "0",
      "--admin-port", "0",
      "--upstream-port", String(httpPort),
      "--wasm", opts.wasm,
      ...configArgs,
    ]).toString();
    await writeFile(path.join(dir, "envoy.yaml"), yaml);
    const adminFile = path.join(dir, "envoy-admin.address");
    const envoy = detached("envoy", ["-c", path.join(dir, "envoy.yaml"), "--concurrency", "1", "--log-level", "warn", "--base-id", String(process.pid % 60000), "--admin-address-path", adminFile], path.join(dir, "envoy.out"));
    children.push(envoy);
    await until(async () => existsSync(adminFile) && (await readFile(adminFile, "utf8")).trim() !== "", "Envoy's admin address", envoy, 60_000);
    const admin = `http://${(await readFile(adminFile, "utf8")).trim()}/`;
    let envoyPort = 0;
    await until(async () => {
      const ready = await fetch(new URL("ready", admin)).catch(() => null);
      if (!ready || !ready.ok) return false;
      const listeners = await adminJson(admin, "listeners?format=json");
      const webmail = listeners.listener_statuses.find((l) => l.name === "webmail");
      envoyPort = webmail ? webmail.local_address.socket_address.port_value : 0;
      return envoyPort > 0;
    }, "Envoy's listener", envoy, 60_000);
    // The holder has become Dovecot (same process, so the socket is Dovecot's).
    await until(async () => (await readFile(`/proc/${dovecot.pid}/comm`, "utf8").catch(() => "")) === "dovecot\n", "Dovecot", dovecot);
    return {
      url: `http://127.0.0.1:${envoyPort}/`,
      larry: `http://${LARRY_HOST}:${envoyPort}/`,
      direct: `http://127.0.0.1:${httpPort}/`,
      plain: `http://127.0.0.1:${plainPort}/`,
      overSmtp: mta ? `http://${SMTP_HOST}:${plainPort}/` : null,
      postfixLog: mta ? mta.log : null,
      admin,
      /**
       * The filter's counters (`mistype.blocked`, `mistype.api.roundcube.inspected`, ...), once
       * the counts of the requests made so far have reached Envoy: the filter hands them over at
       * its tick (every 500 ms at most).
       */
      async counters() {
        await new Promise((r) => setTimeout(r, 800));
        const { stats } = await adminJson(admin, "stats?format=json&filter=" + encodeURIComponent("^wasmcustom\\.mistype\\."));
        return Object.fromEntries(stats.map((x) => [x.name.replace(/^wasmcustom\./, ""), x.value]));
      },
      smtp,
      dir,
      envoyOut: () => envoy.output(),
      logs: async () => {
        const parts = [];
        for (const f of ["apache-error.log", "dovecot.log", "rclogs/errors.log", "mistype-smtpd.log"]) {
          const p = path.join(dir, f);
          if (existsSync(p)) parts.push(`--- ${f}\n${(await readFile(p, "utf8")).slice(-3000)}`);
        }
        return parts.join("\n");
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
