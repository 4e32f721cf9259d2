// One Roundcube set-up for the webmail tests, all on 127.0.0.1 with ports chosen at run time:
//
//   SMTP sink (this process)  <-  Roundcube 1.6 (Debian; Apache + mod_php, own config)  ->  Dovecot (IMAP)
//                                        ^
//   headless Chromium  ->  Envoy 1.40 with the shipped filter/envoy.yaml and the built filter
//
// Apache and Dovecot run from config files in a temp dir, each in its own session (detached), so
// that stopping them never signals the test runner. The Debian packages are installed by
// scripts/ensure-tools.sh roundcube; the plugin is installed as an operator would (copied into
// plugins/ with the built web-lint package in its pkg/), in a private Roundcube tree that links
// Debian's code, so the system's Roundcube is never changed.
import { spawn, execFileSync } from "node:child_process";
import { createServer as netServer, Socket } from "node:net";
import { mkdtemp, writeFile, mkdir, cp, rm, readFile, chmod, symlink, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const USER = "ray.k@army.mil";
export const PASSWORD = "mistype-test";
// Debian's Roundcube tree and the SQLite database dbconfig-common created at install.
const RC_ROOT = "/var/lib/roundcube";
const DEBIAN_DB = "/var/lib/dbconfig-common/sqlite3/roundcube/roundcube";

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port, what, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = new Socket();
      s.once("connect", () => { s.destroy(); resolve(true); });
      s.once("error", () => resolve(false));
      s.connect(port, "127.0.0.1");
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
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

function detached(cmd, args, logFile, env = process.env) {
  const out = [];
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env });
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

/**
 * mistype-smtpd (the built binary `bin`) and a private Postfix using it as its policy service
 * (scripts/private_postfix.py serve), relaying to the sink on `sinkPort`. Returns the Postfix
 * port; both go into `children`.
 */
async function startMta(repo, bin, sinkPort, dir, children) {
  const policyPort = await freePort();
  children.push(detached(bin, ["--policy-listen", `inet:127.0.0.1:${policyPort}`], path.join(dir, "mistype-smtpd.log")));
  await waitPort(policyPort, "mistype-smtpd");
  const pf = spawn("python3", [path.join(repo, "scripts", "private_postfix.py"), "serve", String(sinkPort), String(policyPort)], {
    detached: true,
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(pf);
  const first = await new Promise((resolve, reject) => {
    let buf = "";
    pf.stdout.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) resolve(buf.split("\n")[0]);
    });
    pf.on("exit", (code) => reject(new Error(`private Postfix exited (${code}) before listening`)));
  });
  return JSON.parse(first);
}

/**
 * Starts everything; returns { url (elastic + plugin, through Envoy), direct (the same, Apache
 * itself), larry (larry + plugin), plain (elastic without the plugin), overSmtp (elastic without
 * the plugin, sending through Postfix with mistype-smtpd as its policy service, when
 * opts.smtpd is given), smtp, dir, stop() }.
 * opts: repo, pkgDir, wasm (the built filter), filterConfig (object, the plugin configuration),
 * smtpd (the built mistype-smtpd, optional).
 */
export async function startRoundcube(opts) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mistype-roundcube-"));
  await chmod(dir, 0o755);
  const [imapPort, httpPort, larryPort, plainPort, envoyPort, adminPort, overSmtpPort] = await Promise.all(
    [1, 2, 3, 4, 5, 6, 7].map(() => freePort()),
  );
  const smtp = smtpSink();
  const smtpPort = await smtp.listen();
  const children = [];
  const exited = (c) => c.exitCode !== null || c.signalCode !== null;
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
    // --- Dovecot: one user in a passwd file, maildir under the temp dir.
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
    children.push(detached("/usr/sbin/dovecot", ["-F", "-c", path.join(dir, "dovecot.conf")], path.join(dir, "dovecot.out")));

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
      `<?php\n$config = [];\n$config['mistype_ask_on'] = 'warn';\n$config['mistype_policy'] = '{"protected": ["northwind-defence.example"]}';\n$config['log_driver'] = 'file';\n$config['log_dir'] = '${dir}/rclogs/';\n`,
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
    // Three sites on one Roundcube: elastic with the plugin (behind Envoy), larry with the
    // plugin, and elastic without it (for the browser extension).
    const sites = [
      [httpPort, env],
      [larryPort, { ...env, ROUNDCUBE_SKIN: "larry" }],
      [plainPort, { ...env, ROUNDCUBE_PLUGINS: "[]" }],
    ];
    // Roundcube as it is, handing its mail to the organisation's Postfix over SMTP, where
    // mistype-smtpd is the policy service (docs/smtp.md).
    let mta = null;
    if (opts.smtpd) {
      mta = await startMta(opts.repo, opts.smtpd, smtpPort, dir, children);
      sites.push([overSmtpPort, { ...env, ROUNDCUBE_PLUGINS: "[]", ROUNDCUBE_SMTP_HOST: `127.0.0.1:${mta.port}` }]);
    }
    const mods = "/usr/lib/apache2/modules";
    await writeFile(
      path.join(dir, "apache.conf"),
      `ServerRoot /etc/apache2
ServerName 127.0.0.1
PidFile ${dir}/apache.pid
Mutex file:${dir}
${sites.map(([port]) => `Listen 127.0.0.1:${port}`).join("\n")}
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
${sites.map(([port, vars]) => `<VirtualHost 127.0.0.1:${port}>\n${setEnv(vars)}\n</VirtualHost>`).join("\n")}
`,
    );
    children.push(detached("/usr/sbin/apache2", ["-f", path.join(dir, "apache.conf"), "-DFOREGROUND"], path.join(dir, "apache.out"), { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_LOG_DIR: dir }));

    // --- Envoy with the shipped config: listener -> Apache (cluster "webmail").
    // The shipped plugin configuration unless the test gives one.
    const configArgs = opts.filterConfig ? ["--config", JSON.stringify(opts.filterConfig, null, 2)] : [];
    const yaml = execFileSync("python3", [
      path.join(opts.repo, "demo", "render_envoy.py"),
      "--template", path.join(opts.repo, "filter", "envoy.yaml"),
      "--listen-port", String(envoyPort),
      "--admin-port", String(adminPort),
      "--upstream-port", String(httpPort),
      "--wasm", opts.wasm,
      ...configArgs,
    ]).toString();
    await writeFile(path.join(dir, "envoy.yaml"), yaml);
    children.push(detached("envoy", ["-c", path.join(dir, "envoy.yaml"), "--concurrency", "1", "--log-level", "warn", "--base-id", String(process.pid % 60000)], path.join(dir, "envoy.out")));

    await waitPort(imapPort, "Dovecot");
    for (const [p] of sites) await waitPort(p, "Apache");
    await waitPort(envoyPort, "Envoy", 60_000);
    const envoyProc = children[children.length - 1];
    const envoyOut = () => envoyProc.output();
    return {
      url: `http://127.0.0.1:${envoyPort}/`,
      direct: `http://127.0.0.1:${httpPort}/`,
      larry: `http://127.0.0.1:${larryPort}/`,
      plain: `http://127.0.0.1:${plainPort}/`,
      overSmtp: mta ? `http://127.0.0.1:${overSmtpPort}/` : null,
      postfixLog: mta ? mta.log : null,
      admin: `http://127.0.0.1:${adminPort}/`,
      smtp,
      dir,
      envoyOut,
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
