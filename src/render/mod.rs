//! Rendering: a validated [`Project`] becomes the unit files that make systemd run its loop.
//!
//! The unit set is the static templates of units/ (`agent-runner@.service`, `.timer`, `.path`,
//! `agent-runner-loop@.service`, `agent-runner-halt@.service`) plus one drop-in per template,
//! rendered per project from templates/ with minijinja in strict-undefined mode. How the units
//! work together is docs/architecture.md, "The loop on systemd". Every value is escaped by
//! systemd's rules ([`escape`]) before it reaches a template ([`templates`]), the values
//! themselves are computed in [`drop_ins`], and every generated file starts with a header naming
//! its source and the hash of its inputs ([`header`]), which is how `generate` recognises its
//! own files and [`drift`] tells a TOML edited after `generate`.

pub(crate) mod drift;
mod drop_ins;
mod escape;
pub(crate) mod features;
mod header;
mod templates;

pub(crate) use self::drop_ins::RenderOptions;
use self::drop_ins::UnitContext;
use self::header::project_header;
pub(crate) use self::header::{HASH_MARK, SOURCE_MARK, UnitFile, inputs_hash, parse_header};
pub(crate) use self::templates::templates;
use self::templates::{DROP_IN_OF, environment, tidy};
use crate::config::Project;
use crate::error::{Error, Result};
use crate::units::drop_in_path;

/// The per-project drop-ins of `project`, whose TOML text is `toml_text`.
pub(crate) fn render_project(
    project: &Project,
    toml_text: &str,
    options: &RenderOptions,
) -> Result<Vec<UnitFile>> {
    let env = environment()?;
    let header = project_header(
        project,
        toml_text,
        options.source_path,
        options.features.version,
    );
    let context = UnitContext::new(project, header, options);
    DROP_IN_OF
        .into_iter()
        .map(|(unit, template)| {
            let contents = env
                .get_template(template)
                .and_then(|t| t.render(minijinja::value::Serde(&context)))
                .map(|text| tidy(&text))
                .map_err(|e| {
                    Error::Failed(format!("rendering {template} for {}: {e}", project.name))
                })?;
            Ok(UnitFile {
                path: drop_in_path(&unit.of(&project.name)),
                contents,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::features::Features;
    use super::*;
    use crate::paths::Scope;

    #[test]
    fn the_header_says_how_to_refresh_the_file() {
        let text = "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";
        let project =
            crate::config::load_str(text, Path::new("/etc/agent-runner/x.toml"), Scope::System)
                .unwrap();
        let mut options = RenderOptions {
            exec: PathBuf::from("/usr/bin/agent-runner"),
            features: Features::of(252),
            source_path: false,
        };
        let generated = render_project(&project, text, &options).unwrap();
        assert!(
            generated[0]
                .contents
                .contains("run `agent-runner generate`")
        );
        assert_eq!(
            parse_header(&generated[0].contents).unwrap().1,
            inputs_hash(text)
        );
        options.source_path = true;
        let generator = render_project(&project, text, &options).unwrap();
        assert!(
            generator[0]
                .contents
                .contains("run `systemctl daemon-reload`"),
            "{}",
            generator[0].contents
        );
        assert!(
            generator[0]
                .contents
                .contains("SourcePath=/etc/agent-runner/x.toml")
        );
    }

    #[test]
    fn newer_systemd_keys_are_rendered_only_for_the_versions_that_have_them() {
        let text = "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";
        let render = |scope, version| {
            let project =
                crate::config::load_str(text, Path::new("/etc/agent-runner/x.toml"), scope)
                    .unwrap();
            let options = RenderOptions {
                exec: PathBuf::from("/usr/bin/agent-runner"),
                features: Features::of(version),
                source_path: false,
            };
            render_project(&project, text, &options)
                .unwrap()
                .iter()
                .map(|f| f.contents.clone())
                .collect::<String>()
        };
        let strict = "\nProtectControlGroups=strict\n";
        let state = "\nStateDirectory=agent-runner/%i\n";
        assert!(!render(Scope::System, 256).contains(strict));
        assert_eq!(render(Scope::System, 257).matches(strict).count(), 1);
        // The system units' StateDirectory= is in the shipped templates, not the drop-ins.
        assert!(!render(Scope::System, 257).contains(state));
        assert!(!render(Scope::User, 253).contains(state));
        // The round, the loop step and the halt step all write the state.
        assert_eq!(render(Scope::User, 254).matches(state).count(), 3);
        assert!(!render(Scope::User, 257).contains(strict));
    }

    #[test]
    fn credential_paths_are_not_quoted() {
        // systemd does not unquote the path of LoadCredential=: quotes would become part of it.
        let text = "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[agent.credentials]\nTOKEN = \"/etc/my creds/100%.key\"\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";
        let project =
            crate::config::load_str(text, Path::new("/etc/agent-runner/x.toml"), Scope::System)
                .unwrap();
        let options = RenderOptions {
            exec: PathBuf::from("/usr/bin/agent-runner"),
            features: Features::of(252),
            source_path: false,
        };
        let service = &render_project(&project, text, &options).unwrap()[0].contents;
        assert!(
            service.contains("LoadCredential=TOKEN:/etc/my creds/100%%.key\n"),
            "{service}"
        );
    }

    #[test]
    fn the_state_paths_are_writable_below_the_home_of_the_rounds_user() {
        let me = nix::unistd::User::from_uid(nix::unistd::Uid::current())
            .unwrap()
            .unwrap();
        let text = format!(
            "schema_version = 1\n[agent]\npreset = \"claude\"\nstate_paths = [\".claude\", \"with space\"]\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"{}\"\n[prompt]\nfiles = [\"p.md\"]\n",
            me.name
        );
        let options = RenderOptions {
            exec: PathBuf::from("/usr/bin/agent-runner"),
            features: Features::of(252),
            source_path: false,
        };
        let render = |scope| {
            let project =
                crate::config::load_str(&text, Path::new("/etc/agent-runner/x.toml"), scope)
                    .unwrap();
            render_project(&project, &text, &options).unwrap()[0]
                .contents
                .clone()
        };
        let service = render(Scope::System);
        let home = me.dir.display();
        for line in [
            format!("ReadWritePaths=-{home}/.claude\n"),
            format!("ReadWritePaths=\"-{home}/with space\"\n"),
            format!("Environment=\"CLAUDE_CONFIG_DIR={home}/.claude\"\n"),
        ] {
            assert!(service.contains(&line), "{line:?} in\n{service}");
        }
        // The user manager's units leave the home writable and claude where it always keeps
        // its files.
        let service = render(Scope::User);
        assert!(!service.contains("ReadWritePaths"), "{service}");
        assert!(!service.contains("CLAUDE_CONFIG_DIR"), "{service}");
    }

    #[test]
    fn limits_render_on_the_round_service_only_when_set() {
        let base = "schema_version = 1\n[agent]\ncommand = [\"/bin/sh\"]\n[runtime]\nwork_dir = \"/srv/x\"\nuser = \"nobody\"\n[prompt]\nfiles = [\"p.md\"]\n";
        let render = |tail: &str| {
            let text = format!("{base}{tail}");
            let project = crate::config::load_str(
                &text,
                Path::new("/etc/agent-runner/x.toml"),
                Scope::System,
            )
            .unwrap();
            let options = RenderOptions {
                exec: PathBuf::from("/usr/bin/agent-runner"),
                features: Features::of(252),
                source_path: false,
            };
            render_project(&project, &text, &options).unwrap()
        };
        let plain = render("");
        assert!(plain.iter().all(|f| !f.contents.contains("[limits]")));
        // Nice=0 is a setting of its own (it undoes a manager's default), not an absent one.
        let files = render("[limits]\nnice = 0\nmemory_max = 1073741824\n");
        let service = &files[0].contents;
        assert!(
            service.ends_with(
                "\n# [limits]: what the kernel lets the round use.\nMemoryMax=1073741824\nNice=0\n"
            ),
            "{service}"
        );
        assert!(files[1..].iter().all(|f| !f.contents.contains("Nice=")));
    }
}
