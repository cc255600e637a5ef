//! `tipring sim-card`: runs a simulated line card on a pseudo-terminal, scripted or at an
//! interactive prompt. Tone, in-band DTMF and caller-ID steps use the media crate's DSP
//! ([`tipring::sim_dsp::MediaDsp`]) with the chosen country's tone plan.

use clap::Args;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tipring::sim_dsp::MediaDsp;
use tipring_hal::model::PortKind;
use tipring_hal::sim::scenario::{Runner, Step, parse_line, parse_script};
use tipring_hal::sim::{SimCard, SimConfig};
use tipring_media::tone::{Country, CountryProfile};

#[derive(Debug, Args)]
pub struct SimCardArgs {
    /// Port kinds, comma-separated, port 0 first.
    #[arg(long, default_value = "fxs,fxs,fxo,fxo")]
    ports: String,
    /// Scenario file (one step a line); without it, read steps from standard input.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Directory for the stable serial symlink (`card.tty`) and the audio sockets.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Tone plan for `play`/`expect-tone` by name (us, uk, de, fr, it, au, jp).
    #[arg(long, default_value = "us")]
    country: String,
}

impl SimCardArgs {
    pub fn run(self) -> ExitCode {
        match self.serve() {
            Ok(code) => code,
            Err(e) => {
                eprintln!("sim-card: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn serve(self) -> Result<ExitCode, String> {
        let ports = self
            .ports
            .split(',')
            .map(|p| PortKind::parse(p.trim()).ok_or(format!("port kind `{p}`: fxs or fxo")))
            .collect::<Result<Vec<_>, _>>()?;
        let country = Country::parse(&self.country).map_err(|e| format!("--country: {e}"))?;
        let dir = self.dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("tipring-sim-{}", std::process::id()))
        });
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let sim = SimCard::start(SimConfig::new(ports, &dir)).map_err(|e| format!("start: {e}"))?;
        println!(
            "sim-card serving {} (stable path {}), audio sockets in {}",
            sim.slave_path().display(),
            sim.link_path().display(),
            sim.audio_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        );
        let _ = std::io::stdout().flush();
        let dsp = MediaDsp::new(CountryProfile::builtin(country));
        let mut runner = Runner {
            sim: &sim,
            dsp: Some(&dsp),
        };
        match self.script {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let steps = parse_script(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                for step in &steps {
                    if *step == Step::Quit {
                        break;
                    }
                    match runner.run(step) {
                        Ok(out) => println!(
                            "ok {step:?}{}",
                            out.map(|o| format!("\n{o}")).unwrap_or_default()
                        ),
                        Err(e) => {
                            println!("FAILED {step:?}: {e}");
                            return Ok(ExitCode::FAILURE);
                        }
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            None => {
                let stdin = std::io::stdin();
                let mut line_no = 0;
                print!("sim> ");
                let _ = std::io::stdout().flush();
                for line in stdin.lock().lines() {
                    let Ok(line) = line else { break };
                    line_no += 1;
                    match parse_line(&line, line_no) {
                        Ok(Some(Step::Quit)) => break,
                        Ok(Some(step)) => match runner.run(&step) {
                            Ok(Some(out)) => print!("{out}"),
                            Ok(None) => println!("ok"),
                            Err(e) => println!("error: {e}"),
                        },
                        Ok(None) => {}
                        Err(e) => println!("error: {e}"),
                    }
                    print!("sim> ");
                    let _ = std::io::stdout().flush();
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
