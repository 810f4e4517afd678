use super::*;

#[test]
fn parses_every_command() {
    assert_eq!(parse("\\?"), Ok(MetaCommand::Help));
    assert_eq!(parse("\\q"), Ok(MetaCommand::Quit));
    assert_eq!(parse("\\dt"), Ok(MetaCommand::ListTables));
    assert_eq!(parse("\\d"), Ok(MetaCommand::ListTables));
    assert_eq!(parse("\\d  customers "), Ok(MetaCommand::Describe("customers".into())));
    assert_eq!(parse("\\d \"customers\""), Ok(MetaCommand::Describe("customers".into())));
    assert_eq!(parse("\\df"), Ok(MetaCommand::Functions(None)));
    assert_eq!(parse("\\df capture"), Ok(MetaCommand::Functions(Some("capture".into()))));
    assert_eq!(parse("\\timing"), Ok(MetaCommand::Timing(None)));
    assert_eq!(parse("\\timing ON"), Ok(MetaCommand::Timing(Some(true))));
    assert_eq!(parse("\\x off"), Ok(MetaCommand::Expanded(Some(false))));
    assert_eq!(parse("\\format csv"), Ok(MetaCommand::Format(OutputFormat::Csv)));
    assert_eq!(parse("\\format Markdown"), Ok(MetaCommand::Format(OutputFormat::Markdown)));
    assert_eq!(parse("\\requests"), Ok(MetaCommand::Requests));
    assert_eq!(parse("\\watch"), Ok(MetaCommand::Watch { interval: Duration::from_secs(2), count: None }));
    assert_eq!(parse("\\watch 0.5 3"), Ok(MetaCommand::Watch { interval: Duration::from_millis(500), count: Some(3) }));
    assert_eq!(parse("\\i /tmp/a.sql"), Ok(MetaCommand::Include("/tmp/a.sql".into())));
    assert_eq!(parse("\\o out.csv"), Ok(MetaCommand::Output(Some("out.csv".into()))));
    assert_eq!(parse("\\o"), Ok(MetaCommand::Output(None)));
    assert_eq!(parse("\\cache clear"), Ok(MetaCommand::CacheClear));
}

#[test]
fn rejects_unknown_commands_and_bad_arguments_with_clear_messages() {
    assert_eq!(parse("\\zz").unwrap_err(), "unknown meta-command \\zz; type \\? for the list");
    assert!(parse("\\format xml").unwrap_err().contains("xml"), "{:?}", parse("\\format xml"));
    assert!(parse("\\format").unwrap_err().contains("table, csv"));
    assert!(parse("\\watch 0").unwrap_err().contains("positive"));
    assert!(parse("\\watch abc").unwrap_err().contains("abc"));
    assert!(parse("\\watch 1 0").unwrap_err().contains("count"));
    assert!(parse("\\timing maybe").unwrap_err().contains("on` or `off"));
    assert!(parse("\\dt extra").unwrap_err().contains("takes no argument"));
    assert!(parse("\\i").unwrap_err().contains("file"));
    assert!(parse("\\cache").unwrap_err().contains("clear"));
}

#[test]
fn every_listed_command_parses_or_needs_an_argument() {
    for (name, _) in COMMANDS {
        let r = parse(name);
        assert!(r.is_ok() || !r.as_ref().unwrap_err().starts_with("unknown"), "{name}: {r:?}");
    }
}

#[test]
fn watch_new_and_changes_modes() {
    assert_eq!(
        parse("\\watch new"),
        Ok(MetaCommand::WatchNew { interval: Duration::from_secs(2), count: None, changes: false })
    );
    assert_eq!(
        parse("\\watch changes 0.5 3"),
        Ok(MetaCommand::WatchNew { interval: Duration::from_millis(500), count: Some(3), changes: true })
    );
    assert!(parse("\\watch new soon").unwrap_err().contains("soon"));
}
