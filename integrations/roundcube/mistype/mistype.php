<?php

/**
 * mistype for Roundcube: warns in the compose window before a message goes to a mistyped or
 * lookalike domain (navy.ml for navy.mil, gmial.com), and lets the user confirm a send that the
 * mistype filter in front of Roundcube stopped, from the compose window or Roundcube's "Bounce".
 *
 * Install: copy this folder to Roundcube's plugins/ as plugins/mistype, put the built
 * mistype-web-lint package in plugins/mistype/pkg/ (or set mistype_package_url), and add
 * 'mistype' to $config['plugins']. Settings: config.inc.php.dist.
 *
 * @license MIT OR Apache-2.0
 */
class mistype extends rcube_plugin
{
    public $task = 'mail';

    public function init()
    {
        $rcmail = rcmail::get_instance();
        if ($rcmail->action === 'compose') {
            $this->load_config();
            $this->add_texts('localization/', true);
            $this->add_hook('render_page', [$this, 'render_page']);
        } elseif (in_array((string) $rcmail->action, ['', 'show', 'preview'], true)) {
            // The pages that offer Roundcube's "Bounce": the filter's refusal of one is answered
            // here (the plugin's question, then the fix or the bounce confirmed).
            $this->load_config();
            $this->add_texts('localization/', true);
            $this->add_hook('render_page', [$this, 'render_bounce_page']);
        }
    }

    /** Where the mistype-web-lint package is served from. */
    private function package_url()
    {
        return rcmail::get_instance()->config->get('mistype_package_url') ?: $this->urlbase . 'pkg/';
    }

    /**
     * On the message list and a message's view: what answers the filter's refusal of a bounce.
     */
    public function render_bounce_page($args)
    {
        if (!in_array($args['template'], ['mail', 'message', 'messagepreview'], true)) {
            return $args;
        }
        $rcmail = rcmail::get_instance();
        // The package's compose helper rewrites a refused address (loaded only for the fix).
        $rcmail->output->set_env('mistype_bounce', [
            'package_url' => $this->package_url(),
        ]);
        $this->include_stylesheet($this->local_skin_path() . '/mistype.css');
        $this->include_script('mistype.js');

        return $args;
    }

    /**
     * On the compose page: the package, the policy and each identity's address go to the client.
     */
    public function render_page($args)
    {
        if ($args['template'] !== 'compose') {
            return $args;
        }
        $rcmail = rcmail::get_instance();
        $config = $rcmail->config;

        $identities = [];
        foreach ((array) $rcmail->user->list_identities() as $identity) {
            $identities[(string) $identity['identity_id']] = (string) $identity['email'];
        }

        $policy = $config->get('mistype_policy');
        if (is_array($policy)) {
            $policy = json_encode($policy);
        }

        $rcmail->output->set_env('mistype', [
            'package_url'  => $this->package_url(),
            'policy'       => is_string($policy) && $policy !== '' ? $policy : null,
            'policy_url'   => $config->get('mistype_policy_url') ?: null,
            'ask_on'       => $config->get('mistype_ask_on', 'warn'),
            'identities'   => $identities,
            'from_field'   => '_mistype_from',
        ]);

        $this->include_stylesheet($this->local_skin_path() . '/mistype.css');
        $this->include_stylesheet('pkg/compose.css');
        $this->include_script('mistype.js');

        return $args;
    }
}
