//! Bad input gets a message naming the file, the field and the value, and exit code 2.

use crate::support::{
    assert_error, assert_valid, forksim, scenario, stderr, stdout, validate_text,
};

const BASE: &str = "[network]\nnodes = 10\n";
/// A complete graph: small networks whose random topology might not build.
const COMPLETE: &str = "[network.topology]\nkind = \"complete\"\n";

#[test]
fn unknown_field_is_named_with_its_path() {
    assert_error("[network]\nnodez = 10\n", &[], &["network.nodez", "unknown field `nodez`"]);
    assert_error(
        "[chain]\nblock_intervall_s = 10\n",
        &[],
        &["chain.block_intervall_s", "unknown field"],
    );
}

#[test]
fn wrong_type_names_field_and_value() {
    assert_error(
        "[network]\nnodes = \"many\"\n",
        &[],
        &["network.nodes", "\"many\"", "invalid type"],
    );
}

#[test]
fn zero_or_negative_rates_are_rejected() {
    assert_error(
        &format!("{BASE}[chain]\nblock_interval_s = 0\n"),
        &[],
        &["chain.block_interval_s", "= 0", "greater than 0"],
    );
    assert_error(
        &format!("{BASE}[mining]\nnetwork_hashrate_hs = -5.0\n"),
        &[],
        &["mining.network_hashrate_hs", "-5", "greater than 0"],
    );
    assert_error(
        &format!("{BASE}[network.latency]\nmodel = \"constant\"\nms = -1.0\n"),
        &[],
        &["network.latency.ms", "-1", "at least 0"],
    );
    assert_error(
        &format!("{BASE}[node]\nvalidation_us_per_missing_tx = -2.5\n"),
        &[],
        &["node.validation_us_per_missing_tx", "-2.5", "at least 0"],
    );
}

#[test]
fn shares_must_sum_to_one() {
    assert_error(
        &format!("{BASE}[mining.hash_power]\ndistribution = \"shares\"\nshares = [0.5, 0.4]\n"),
        &[],
        &["mining.hash_power.shares", "[0.5, 0.4]", "must sum to 1", "0.9"],
    );
}

#[test]
fn impossible_topologies_are_rejected() {
    // Two islands: {0,1,2} and {3,4}.
    assert_error(
        "[network]\nnodes = 5\n[network.topology]\nkind = \"edges\"\nedges = [[0, 1], [1, 2], [3, 4]]\n",
        &[],
        &["network.topology", "disconnected"],
    );
    assert_error(
        &format!("{BASE}[network.topology]\noutbound = 10\n"),
        &[],
        &["network.topology.outbound", "= 10"],
    );
    assert_error(
        "[network]\nnodes = 5\n[network.topology]\nkind = \"edges\"\nedges = [[0, 7]]\n",
        &[],
        &["network.topology.edges[0]", "[0, 7]", "below network.nodes"],
    );
    assert_error(
        &format!("{BASE}[network.topology]\nkind = \"complete\"\noutbound = 3\n"),
        &[],
        &["network.topology.outbound", "does not apply"],
    );
}

#[test]
fn unknown_names_list_the_choices() {
    assert_error(
        &format!("{BASE}[network.relay]\nprotocol = \"gossip\"\n"),
        &[],
        &["network.relay.protocol", "\"gossip\"", "\"flood\"", "\"compact\""],
    );
    assert_error(
        "[network]\nregions = \"mars\"\n",
        &[],
        &["network.regions", "\"mars\"", "bitcoin-2019"],
    );
}

#[test]
fn hash_power_presets_reject_unknown_names_and_bad_combinations() {
    let preset = |body: &str| format!("{BASE}[mining.hash_power]\n{body}");
    assert_error(
        &preset("preset = \"bitcoin-2020\"\n"),
        &[],
        &[
            "mining.hash_power.preset",
            "\"bitcoin-2020\"",
            "unknown pool preset",
            "\"bitcoin-2015\", \"bitcoin-2018\", \"bitcoin-2019\", \"litecoin\", \"dogecoin\"",
        ],
    );
    assert_error(
        &preset("preset = \"litecoin\"\ndistribution = \"pareto\"\n"),
        &[],
        &[
            "mining.hash_power.preset",
            "\"litecoin\"",
            "mining.hash_power.distribution",
            "\"pareto\"",
        ],
    );
    assert_error(
        &preset("preset = \"litecoin\"\nalpha = 1.5\n"),
        &[],
        &["mining.hash_power.alpha", "1.5", "mining.hash_power.preset = \"litecoin\""],
    );
    // bitcoin-2015 has 16 pools, one node each: 10 nodes are too few.
    assert_error(
        &preset("preset = \"bitcoin-2015\"\n"),
        &[],
        &["mining.hash_power.preset", "\"bitcoin-2015\"", "16 pools", "network.nodes = 10"],
    );
    assert_error(
        "[network]\nnodes = 30\n[mining]\nminers = 20\nhash_power = { preset = \"bitcoin-2015\" }\n",
        &[],
        &["mining.miners", "= 20", "16 pools", "\"bitcoin-2015\""],
    );
    // A `--set` is named as the origin, and the preset's name is checked like the file's.
    let (code, err, _) = validate_text(BASE, &["--set", "mining.hash_power.preset=nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--set mining.hash_power.preset=nope"), "{err}");
    assert!(err.contains("mining.hash_power.preset") && err.contains("\"litecoin\""), "{err}");
}

#[test]
fn a_preset_resolves_to_its_name_and_one_miner_per_pool() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("preset.toml");
    std::fs::write(&path, "[network]\nnodes = 30\n[mining.hash_power]\npreset = \"litecoin\"\n")
        .unwrap();
    let o = forksim(&["validate", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("preset = \"litecoin\""), "{text}");
    assert!(text.contains("miners = 12"), "{text}");
    assert!(!text.contains("distribution"), "a preset is not a distribution: {text}");
}

#[test]
fn set_overrides_are_checked_like_the_file() {
    let (code, err, _) = validate_text(BASE, &["--set", "network.nodes=abc"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--set network.nodes=abc") && err.contains("network.nodes"), "{err}");
    let (code, err, _) = validate_text(BASE, &["--set", "network.nodez=3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("network.nodez") && err.contains("unknown field"), "{err}");
    let (code, err, _) = validate_text(BASE, &["--set", "novalue"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--set novalue"), "{err}");
}

#[test]
fn syntax_errors_and_missing_files() {
    let (code, err, path) = validate_text("[network\nnodes = 3\n", &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&path) && err.contains("not valid TOML"), "{err}");
    let o = forksim(&["run", "scenarios/does-not-exist.toml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("scenarios/does-not-exist.toml") && err.contains("cannot read"), "{err}");
}

#[test]
fn every_shipped_scenario_validates() {
    for name in
        ["quickstart.toml", "bitcoin-2019.toml", "litecoin.toml", "dogecoin.toml", "classroom.toml"]
    {
        let p = scenario(name);
        let o = forksim(&["validate", p.to_str().unwrap()]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
    }
}

#[test]
fn header_times_that_would_run_out_are_rejected_before_the_run() {
    // 32-bit header times end in 2106: a run that would pass that is refused by `validate`.
    assert_error(
        &format!("{BASE}[chain]\nblock_interval_s = 1e9\n"),
        &[],
        &["chain.block_interval_s", "1000000000", "32-bit header times"],
    );
    assert_error(
        &format!("{BASE}[chain]\ngenesis_time = 4294967000\n"),
        &[],
        &["chain.genesis_time", "4294967000", "32-bit header times"],
    );
    assert_error(&format!("{BASE}[run]\nmax_time_s = 1e10\n"), &[], &["run.max_time_s", "at most"]);
}

#[test]
fn a_run_whose_header_times_end_near_the_limit_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let q = scenario("quickstart.toml");
    let out = tmp.path().join("late");
    // 50 blocks of 60 s leave about 16 days of header time after this genesis.
    let o = forksim(&[
        "run",
        q.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "chain.genesis_time=4293600000",
        "--set",
        "run.blocks=50",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A `[[network.region]]` table of the user's own (issue 11, item 5).
const REGION_TABLE: &str = r#"[network]
nodes = 30

[[network.region]]
name = "north_america"
node_share = 0.5
upload_bps = 1_000_000
download_bps = 8_000_000

[[network.region]]
name = "europe"
node_share = 0.5
upload_bps = 1_500_000
download_bps = 12_000_000

[network.latency]
matrix_ms = [[36, 119], [119, 12]]
"#;

#[test]
fn a_region_table_of_the_users_own_is_validated_and_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("regions.toml");
    std::fs::write(&path, REGION_TABLE).unwrap();
    let o = forksim(&["validate", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = stdout(&o);
    for needle in ["[[network.region]]", "name = \"europe\"", "matrix_ms", "model = \"regions\""] {
        assert!(printed.contains(needle), "validate does not print {needle:?}: {printed}");
    }
    assert_error(
        REGION_TABLE,
        &["--set", "network.region[1].node_share=0.25"],
        &["network.region.node_share", "[0.5, 0.25]", "sum to 1"],
    );
    assert_error(
        REGION_TABLE,
        &["--set", "network.latency.matrix_ms=[[36, 119], [120, 12]]"],
        &["network.latency.matrix_ms[0][1]", "= 119", "symmetric"],
    );
    assert_error(
        REGION_TABLE,
        &["--set", "network.latency.matrix_ms=[[36, 119, 1], [119, 12, 1]]"],
        &["network.latency.matrix_ms[0]", "one column per region, 2"],
    );
    assert_error(
        REGION_TABLE,
        &["--set", "network.region[0].download_bps=0"],
        &["network.region[0].download_bps", "= 0", "greater than 0"],
    );
    assert_error(
        &format!("{REGION_TABLE}[[timeline]]\nat_s = 60\nleave = [\"japan\"]\n"),
        &[],
        &["\"japan\"", "no node or region of that name", "north_america, europe"],
    );
}

#[test]
fn an_unknown_field_is_named_once() {
    // The path used to repeat the unknown name (`network.nodess.nodess`).
    let q = scenario("quickstart.toml");
    let o = forksim(&["validate", q.to_str().unwrap(), "--set", "network.nodess=3"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("field `network.nodess` = 3:"), "{err}");
    let (code, err, _) = validate_text("[network.topology]\nkind2 = 1\n", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("field `network.topology.kind2` = 1:"), "{err}");
}

#[test]
fn a_sweep_given_to_run_and_a_scenario_given_to_sweep_say_which_command_to_use() {
    let sweep = scenario("sweeps/orphans.toml");
    let o = forksim(&["run", sweep.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("this is a sweep file: run it with `forksim sweep FILE`"));
    let q = scenario("quickstart.toml");
    let o = forksim(&["sweep", q.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("this is a scenario: run it with `forksim run FILE`"));
}

#[test]
fn a_retarget_interval_of_one_block_is_rejected() {
    // One block has no time span to measure: every retarget would quadruple the difficulty.
    assert_error(
        &format!("{BASE}[chain]\nretarget_interval = 1\n"),
        &[],
        &["chain.retarget_interval", "= 1", "at least 2"],
    );
    assert_valid("[network]\nnodes = 30\n[chain]\nretarget_interval = 2\n");
}

#[test]
fn a_race_with_network_settings_is_rejected_instead_of_ignoring_them() {
    let race = "[race]\nkind = \"double_spend\"\nq = 0.1\nz = 6\ntrials = 100\n";
    assert_error(
        &format!("{race}[network]\nnodes = 50\n"),
        &[],
        &["`network`", "does not apply to a [race]"],
    );
    assert_valid(race);
}

/// Asserts a rejection (exit 2, file named, every needle present) that mentions none of
/// `absent`: the neighbouring fields a misspelt kind used to be blamed on, Rust debug values.
fn assert_error_without(text: &str, extra: &[&str], needles: &[&str], absent: &[&str]) {
    assert_error(text, extra, needles);
    let (_, err, _) = validate_text(text, extra);
    for a in absent.iter().chain(&["Integer(", "Float(", "Some("]) {
        assert!(!err.contains(a), "message mentions {a:?}: {err}");
    }
}

#[test]
fn a_misspelt_kind_is_named_with_its_choices_instead_of_blaming_a_neighbouring_field() {
    let q = scenario("quickstart.toml");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = forksim(&[
        "run",
        q.to_str().unwrap(),
        "--set",
        "network.topology.kind=randm",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for needle in [
        "quickstart.toml (--set network.topology.kind=randm)",
        "field `network.topology.kind` = \"randm\"",
        "expected \"random\", \"small_world\", \"scale_free\", \"complete\" or \"edges\"",
    ] {
        assert!(err.contains(needle), "message lacks {needle:?}: {err}");
    }
    assert!(!err.contains("outbound") && !err.contains("Integer("), "{err}");
    assert!(!out.exists(), "nothing is written for bad input");

    let regional = "[network]\nnodes = 10\nregions = \"bitcoin-2019\"\n";
    assert_error_without(
        &format!("{regional}[network.latency]\nmodel = \"regoins\"\ntable = \"2019\"\n"),
        &[],
        &["network.latency.model", "\"regoins\"", "\"regions\", \"constant\", \"uniform\""],
        &["network.latency.table"],
    );
    assert_error_without(
        &format!("{BASE}[network.latency]\nper_message = \"paretto\"\nper_message_shape = 3.0\n"),
        &[],
        &["network.latency.per_message", "\"paretto\"", "\"simblock\", \"pareto\""],
        &["per_message_shape"],
    );
    assert_error_without(
        &format!("{BASE}[network.bandwidth]\nmodel = \"constnt\"\nupload_bps = 5\n"),
        &[],
        &["network.bandwidth.model", "\"constnt\"", "\"regions\" or \"constant\""],
        &["upload_bps"],
    );
    assert_error_without(
        &format!("{BASE}[mining.hash_power]\ndistribution = \"paretto\"\nalpha = 1.5\n"),
        &[],
        &["mining.hash_power.distribution", "\"paretto\"", "\"exponential\" or \"pareto\""],
        &["mining.hash_power.alpha"],
    );
    // Beside a preset, the misspelt distribution is named, not the preset.
    let q = q.to_str().unwrap();
    let o = forksim(&["validate", q, "--set", "mining.hash_power.distribution=paretto"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("field `mining.hash_power.distribution` = \"paretto\""), "{err}");
    assert!(err.contains("\"equal\", \"shares\""), "{err}");
    assert_error_without(
        "[race]\nkind = \"double_spnd\"\nq = 0.1\n",
        &[],
        &[
            "race.kind",
            "\"double_spnd\"",
            "\"double_spend\", \"selfish_mining\" or \"nothing_at_stake\"",
        ],
        &["race.q"],
    );
    assert_error_without(
        &format!("{BASE}[network.relay]\nprotocol = \"compat\"\ncompact_share = 0.5\n"),
        &[],
        &["network.relay.protocol", "\"compat\"", "\"flood\" or \"compact\""],
        &["compact_share"],
    );
    // A misspelt attacker strategy beside one of its options names the strategy.
    assert_error_without(
        &format!(
            "{BASE}[[attacker]]\nnode = 0\nshare = 0.3\nstrategy = \"invalidd\"\nevery_s = 30\n"
        ),
        &[],
        &[
            "attacker[0].strategy",
            "\"invalidd\"",
            "\"invalid\", \"honest\", \"cartel\", \"long-range\" or \"nothing-at-stake\"",
        ],
        &["every_s", "does not apply"],
    );
}

#[test]
fn a_field_that_does_not_apply_shows_its_value_as_written() {
    assert_error_without(
        &format!("{BASE}[network.topology]\nkind = \"complete\"\noutbound = \"bitcoin-2019\"\n"),
        &[],
        &["field `network.topology.outbound` = \"bitcoin-2019\"", "does not apply"],
        &[],
    );
    assert_error_without(
        &format!("{BASE}[network.topology]\nkind = \"scale_free\"\nedges = [[0, 1]]\n"),
        &[],
        &["field `network.topology.edges` = [[0, 1]]", "does not apply"],
        &[],
    );
}

#[test]
fn an_attacker_entry_set_on_a_scenario_without_attackers_says_the_list_is_missing() {
    let q = scenario("quickstart.toml");
    let q = q.to_str().unwrap();
    for (set, value) in [
        ("attacker[0].strategy=selfish", "\"selfish\""),
        ("attacker[0].share=0.3", "0.3"),
        ("attacker.0.node=4", "4"),
    ] {
        let o = forksim(&["validate", q, "--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let err = stderr(&o);
        let field = set.split('=').next().unwrap().replace(".0", "[0]");
        for needle in [
            format!("quickstart.toml (--set {set})"),
            format!("field `{field}` = {value}"),
            "no [[attacker]] entries".to_string(),
            "add an [[attacker]] table to the file".to_string(),
        ] {
            assert!(err.contains(&needle), "{set}: message lacks {needle:?}: {err}");
        }
        assert!(!err.contains("expected a sequence"), "{err}");
    }
    // An entry past the end of an existing list is still named by its count.
    let attack = scenario("attacks/selfish-gamma0.toml");
    let o = forksim(&["validate", attack.to_str().unwrap(), "--set", "attacker[7].share=0.1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("selfish-gamma0.toml (--set attacker[7].share=0.1)"), "{err}");
    assert!(err.contains("there is no entry 7"), "{err}");
}

#[test]
fn a_tcp_window_is_refused_outside_block_fifo_and_zero_is_refused() {
    assert_error(
        &format!("{BASE}[network.bandwidth]\ntcp_window_bytes = 65536\n"),
        &[],
        &["network.bandwidth.tcp_window_bytes", "65536", "block-fifo"],
    );
    assert_error(
        &format!("{BASE}[network.bandwidth]\nuplink = \"block-fifo\"\ntcp_window_bytes = 0\n"),
        &[],
        &["network.bandwidth.tcp_window_bytes", "must be at least 1"],
    );
}

#[test]
fn gervais_relay_and_spread_fields_name_the_field_and_value() {
    assert_error(
        &format!("{BASE}[network.relay]\nannounce = \"stale\"\n"),
        &[],
        &["network.relay.announce", "\"stale\"", "every-block"],
    );
    assert_error(
        &format!("{BASE}[network.relay]\nrequest_timeout_s = -5.0\n"),
        &[],
        &["network.relay.request_timeout_s", "-5", "greater than 0"],
    );
    assert_error(
        &format!("{BASE}[network.relay]\nprotocol = \"compact\"\nrequest_timeout_s = 60.0\n"),
        &[],
        &["network.relay.request_timeout_s", "60", "\"inv\" and \"push\""],
    );
    assert_error(
        &format!("{BASE}[network.bandwidth]\nnode_spread_directions = \"both\"\n"),
        &[],
        &["network.bandwidth.node_spread_directions", "\"both\"", "independent"],
    );
}

#[test]
fn a_measured_bandwidth_distribution_names_its_choices_and_its_conflicts() {
    assert_error(
        &format!("{BASE}[network.bandwidth]\nnode_distribution = \"bitcoin-2013\"\n"),
        &[],
        &["network.bandwidth.node_distribution", "\"bitcoin-2013\"", "bitcoin-2015"],
    );
    assert_error(
        &format!(
            "{BASE}[network.bandwidth]\nnode_distribution = \"bitcoin-2015\"\nnode_spread_sigma = 1.0\n"
        ),
        &[],
        &["network.bandwidth.node_distribution", "node_spread_sigma", "one or the other"],
    );
    let user_regions = "[network]\nnodes = 10\n[[network.region]]\nname = \"north_america\"\n\
        node_share = 1.0\nupload_bps = 1_000_000\ndownload_bps = 8_000_000\n\
        [network.latency]\nmatrix_ms = [[36]]\n";
    assert_error(
        &format!("{user_regions}[network.bandwidth]\nnode_distribution = \"bitcoin-2015\"\n"),
        &[],
        &["network.bandwidth.node_distribution", "built-in regions", "north_america"],
    );
}

#[test]
fn a_block_wire_term_names_its_choices_and_needs_block_fifo() {
    let fifo = format!("{BASE}[network.bandwidth]\nuplink = \"block-fifo\"\n");
    assert_error(
        &format!("{fifo}block_wire = \"udp\"\n"),
        &[],
        &["network.bandwidth.block_wire", "\"udp\"", "\"tcp\" or \"none\""],
    );
    assert_error(
        &format!("{BASE}[network.bandwidth]\nblock_wire = \"none\"\n"),
        &[],
        &["network.bandwidth.block_wire", "\"none\"", "block-fifo"],
    );
    assert_error(
        &format!("{fifo}block_wire = \"none\"\ntcp_window_bytes = 65536\n"),
        &[],
        &["network.bandwidth.tcp_window_bytes", "65536", "one or the other"],
    );
}

#[test]
fn a_group_takes_one_rule_for_its_extra_peers() {
    let group = format!("{BASE}[[network.group]]\nnodes = [0, 1]\n");
    assert_error(
        &format!("{group}extra_links = 3\npeers_min = 5\n"),
        &[],
        &["network.group[0].peers_min", "5", "one of extra_links, link_share and peers_min"],
    );
    assert_error(
        &format!("{group}link_share = 0.5\npeers_min = 5\n"),
        &[],
        &["network.group[0].peers_min", "5", "one of extra_links"],
    );
    assert_error(
        &format!("{group}peers_min = 0\n"),
        &[],
        &["network.group[0].peers_min", "0", "greater than 0"],
    );
}

#[test]
fn a_group_asks_for_no_more_peers_than_a_node_can_have() {
    // Both used to be capped at network.nodes - 1 without a word.
    let group = format!("{BASE}[[network.group]]\nnodes = [0, 1]\n");
    assert_error(
        &format!("{group}extra_links = 10\n"),
        &[],
        &["network.group[0].extra_links", "= 10", "at most network.nodes - 1 = 9"],
    );
    assert_error(
        &format!("{group}peers_min = 700\n"),
        &[],
        &["network.group[0].peers_min", "= 700", "at most network.nodes - 1 = 9"],
    );
    for fits in ["extra_links = 9\n", "peers_min = 9\n"] {
        assert_valid(&format!("{group}{fits}{COMPLETE}"));
    }
    assert_error(
        &format!("{group}mesh_latency_ms = 5.0\n"),
        &[],
        &["network.group[0].mesh_latency_ms", "= 5", "set mesh = true"],
    );
    assert_error(
        &format!("{group}mesh = true\nmesh_latency_ms = -3.0\n"),
        &[],
        &["network.group[0].mesh_latency_ms", "-3", "at least 0"],
    );
}

#[test]
fn a_group_caps_its_peers_names_its_region_and_gives_its_mesh_bandwidth() {
    let group = format!("{BASE}[[network.group]]\nnodes = [0, 1]\n");
    assert_error(
        &format!("{group}peers_max = 0\n"),
        &[],
        &["network.group[0].peers_max", "= 0", "greater than 0"],
    );
    assert_error(
        &format!("{group}peers_max = 10\n"),
        &[],
        &["network.group[0].peers_max", "= 10", "at most network.nodes - 1 = 9"],
    );
    assert_error(
        &format!("{group}peers_min = 5\npeers_max = 4\n"),
        &[],
        &["network.group[0].peers_max", "= 4", "at least peers_min = 5"],
    );
    assert_valid(&format!("{group}peers_min = 5\npeers_max = 5\n{COMPLETE}"));
    assert_error(
        &format!("{group}mesh_bandwidth_bps = 1_000_000_000\n"),
        &[],
        &["network.group[0].mesh_bandwidth_bps", "= 1000000000", "set mesh = true"],
    );
    assert_error(
        &format!("{group}mesh = true\nmesh_bandwidth_bps = 0\n"),
        &[],
        &["network.group[0].mesh_bandwidth_bps", "= 0", "greater than 0"],
    );
    // Mesh links stay, so a cap at the mesh's own size cuts the members off.
    assert_error(
        "[network]\nnodes = 20\n[[network.group]]\nnodes = [0, 1, 2]\nmesh = true\npeers_max = 2\n",
        &[],
        &["field `network.group`", "disconnected", "node 0"],
    );
    assert_error(
        &format!("{group}region = \"asia\"\n"),
        &[],
        &["network.group[0].region", "\"asia\"", "the network has no regions"],
    );
    let regional =
        "[network]\nnodes = 10\nregions = \"bitcoin-2019\"\n[[network.group]]\nnodes = [0, 1]\n";
    assert_error(
        &format!("{regional}region = \"atlantis\"\n"),
        &[],
        &["network.group[0].region", "\"atlantis\"", "no region of that name", "europe"],
    );
    assert_valid(&format!("{regional}region = \"japan\"\npeers_max = 3\n{COMPLETE}"));
}

#[test]
fn compact_relay_fields_name_the_field_and_value() {
    let compact = format!("{BASE}[network.relay]\nprotocol = \"compact\"\n");
    for (field, value) in [
        ("compact_share", "1.5"),
        ("compact_failure_probability", "-0.1"),
        ("compact_missing_tx_share", "2.5"),
        ("compact_churn_share", "1.01"),
        ("compact_churn_failure_probability", "-0.5"),
    ] {
        assert_error(
            &format!("{compact}{field} = {value}\n"),
            &[],
            &[&format!("network.relay.{field}"), &format!("= {value}"), "between 0 and 1"],
        );
    }
    assert_error(
        &format!("{compact}compact_refetch = \"lazy\"\n"),
        &[],
        &["network.relay.compact_refetch", "\"lazy\"", "\"fixed\" or \"simblock\""],
    );
    // Any count of high-bandwidth peers is meaningful: 0 turns high-bandwidth mode off
    // (simblock.toml), and a count above a node's compact-speaking peers takes them all
    // (the default 3 on a network of 3 nodes, and a resolved scenario replayed).
    for fits in [
        format!("{compact}compact_high_bandwidth_peers = 0\n{COMPLETE}"),
        format!("{compact}compact_high_bandwidth_peers = 50\n{COMPLETE}"),
        format!("[network]\nnodes = 3\n{COMPLETE}[network.relay]\nprotocol = \"compact\"\n"),
    ] {
        assert_valid(&fits);
    }
    assert_error(
        &format!("{BASE}[network.relay]\ncontrol_overhead_ms = -1.5\n"),
        &[],
        &["network.relay.control_overhead_ms", "-1.5", "at least 0"],
    );
}

#[test]
fn latency_bandwidth_and_validation_fields_name_the_field_and_value() {
    let regional = "[network]\nnodes = 10\nregions = \"bitcoin-2019\"\n";
    assert_error(
        &format!("{regional}[network.latency]\njitter_shape = 1.0\n"),
        &[],
        &["network.latency.jitter_shape", "= 1", "greater than 1"],
    );
    assert_error(
        &format!("{regional}[network.latency]\njitter = \"none\"\njitter_shape = 3.0\n"),
        &[],
        &["network.latency.jitter_shape", "= 3", "network.latency.jitter = \"none\""],
    );
    assert_error(
        &format!(
            "{BASE}[network.latency]\nper_message = \"lognormal\"\nper_message_sigma = -0.5\n"
        ),
        &[],
        &["network.latency.per_message_sigma", "-0.5", "at least 0"],
    );
    assert_error(
        &format!("{BASE}[network.latency]\nper_message_sigma = 0.5\n"),
        &[],
        &["network.latency.per_message_sigma", "0.5", "network.latency.per_message = \"simblock\""],
    );
    assert_error(
        &format!("{regional}[network.bandwidth]\ntable = \"2017\"\n"),
        &[],
        &["network.bandwidth.table", "\"2017\"", "\"2015\" or \"2019\""],
    );
    assert_error(
        &format!("{BASE}[network.bandwidth]\nmodel = \"constant\"\ntable = \"2019\"\n"),
        &[],
        &["network.bandwidth.table", "\"2019\"", "does not apply"],
    );
    assert_error(
        &format!("{BASE}[node]\nvalidation_us_per_input = -40.0\n"),
        &[],
        &["node.validation_us_per_input", "-40", "at least 0"],
    );
}

/// Under the stake kinds only the pos-slot double spend is wired, with the attacker's stake
/// as its `share`; anything else names the attacker's strategy, or `[stake]`.
#[test]
fn attackers_outside_pow_are_a_pos_slot_double_spend_or_an_error() {
    let attacker = "[workload]\npayments_per_s = 0.01\nwallets = 10\n\
                    [[attacker]]\nnode = \"n0\"\nstrategy = \"double-spend\"\nshare = 0.3\nmerchant = \"n1\"\nz = 2\n";
    assert_error(
        &format!("{BASE}[consensus]\nkind = \"poet\"\n{attacker}"),
        &[],
        &[
            "attacker[0].strategy",
            "\"double-spend\"",
            "not wired yet for consensus.kind = \"poet\"",
        ],
    );
    assert_error(
        &format!("{BASE}[consensus]\nkind = \"pos-slot\"\n[stake]\nshares = [1, 1, 1]\n{attacker}"),
        &[],
        &["stake.shares", "does not apply with attacker[0]"],
    );
    assert_valid(&format!("{BASE}{COMPLETE}[consensus]\nkind = \"pos-slot\"\n{attacker}"));
}
