//! Zone matching: puts each shot in BEGINNING, ESCALATION or CLIMAX from what its
//! description says (MiniLM similarity to per-vibe anchor sentences), nudged by where
//! the shot sits relative to the film's structure anchors, and says why in one line.

use serde::{Deserialize, Serialize};

use crate::embed::{cosine, EmbedError, Embedder};

/// The 18 vibe profiles that have their own anchor sentences.
pub const VIBES: [&str; 18] = [
    "action",
    "adventure",
    "animation",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "family",
    "fantasy",
    "history",
    "horror",
    "music",
    "mystery",
    "romance",
    "sci-fi",
    "thriller",
    "war",
    "western",
];

/// How much the position prior adds to a zone's cosine similarity. MiniLM cosines of a
/// neutral shot differ between zones by a few hundredths, of a clearly staged one by
/// 0.2 or more: 0.08 lets position decide the ambiguous shots and never overrule a
/// clear description.
pub const POSITION_WEIGHT: f32 = 0.08;
/// Fraction of the runtime over which the position prior fades to zero outside a zone.
pub const POSITION_FADE: f64 = 0.15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    Beginning,
    Escalation,
    Climax,
}

impl Zone {
    pub const ALL: [Zone; 3] = [Zone::Beginning, Zone::Escalation, Zone::Climax];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Zone::Beginning => "beginning",
            Zone::Escalation => "escalation",
            Zone::Climax => "climax",
        }
    }
}

/// One shot to place: its index in the film's shot list, its midpoint and description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneInput {
    pub shot_index: usize,
    pub mid_s: f64,
    pub description: String,
}

/// Structure anchors (seconds) from the structure stage, and the film's runtime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Anchors {
    pub begin_t: f64,
    pub escalation_t: f64,
    pub climax_t: f64,
    pub runtime_s: f64,
}

impl Anchors {
    /// The zone a time falls in by position alone: before ESCALATION_T is the
    /// beginning (the set-up before BEGIN_T included), from CLIMAX_T on the climax.
    pub fn zone_at(&self, t: f64) -> Zone {
        if t >= self.climax_t {
            Zone::Climax
        } else if t >= self.escalation_t {
            Zone::Escalation
        } else {
            Zone::Beginning
        }
    }

    /// 1 inside the zone's span, fading linearly to 0 over `POSITION_FADE` of the
    /// runtime outside it, so shots near a boundary lean both ways.
    pub fn proximity(&self, zone: Zone, t: f64) -> f32 {
        let (lo, hi) = match zone {
            Zone::Beginning => (f64::NEG_INFINITY, self.escalation_t),
            Zone::Escalation => (self.escalation_t, self.climax_t),
            Zone::Climax => (self.climax_t, f64::INFINITY),
        };
        let dist = if t < lo {
            lo - t
        } else if t > hi {
            t - hi
        } else {
            0.0
        };
        let fade = (POSITION_FADE * self.runtime_s.max(1.0)).max(1e-9);
        (1.0 - dist / fade).clamp(0.0, 1.0) as f32
    }

    /// Position as a fraction of the runtime, 0..1.
    pub fn fraction(&self, t: f64) -> f64 {
        if self.runtime_s > 0.0 {
            (t / self.runtime_s).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneMatch {
    pub shot_index: usize,
    pub zone: Zone,
    /// Best cosine similarity to the BEGINNING, ESCALATION and CLIMAX anchors.
    pub similarity: [f32; 3],
    pub position_zone: Zone,
    pub reason: String,
}

/// Anchor sentences for BEGINNING, ESCALATION and CLIMAX: a shared set plus lines
/// typical of the vibe. An unknown vibe gets the shared set alone.
pub fn zone_anchors(vibe: &str) -> [Vec<String>; 3] {
    let mut out: [Vec<String>; 3] = [
        GENERIC[0].iter().map(|s| s.to_string()).collect(),
        GENERIC[1].iter().map(|s| s.to_string()).collect(),
        GENERIC[2].iter().map(|s| s.to_string()).collect(),
    ];
    let key = normalise_vibe(vibe);
    if let Some((_, lines)) = PER_VIBE.iter().find(|(v, _)| *v == key) {
        for (zone, line) in out.iter_mut().zip(lines) {
            zone.push(line.to_string());
        }
    }
    out
}

/// "Sci Fi", "scifi" and "SCI_FI" all mean "sci-fi".
fn normalise_vibe(vibe: &str) -> String {
    let v: String = vibe
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if v == "scifi" || v == "sciencefiction" {
        "sci-fi".into()
    } else {
        v
    }
}

/// Embeds the vibe's anchors and the shot descriptions, then places every shot.
pub fn match_zones(
    emb: &Embedder,
    vibe: &str,
    shots: &[ZoneInput],
    anchors: &Anchors,
) -> Result<Vec<ZoneMatch>, EmbedError> {
    let anchor_texts = zone_anchors(vibe);
    let counts: Vec<usize> = anchor_texts.iter().map(Vec::len).collect();
    // One call for anchors and descriptions together: fewer, fuller buckets.
    let mut texts: Vec<String> = anchor_texts.into_iter().flatten().collect();
    texts.extend(shots.iter().map(|s| s.description.clone()));
    let mut vecs = emb.embed(&texts)?;
    let shot_vecs = vecs.split_off(counts.iter().sum());
    let mut it = vecs.into_iter();
    let anchor_vecs: [Vec<Vec<f32>>; 3] = [
        it.by_ref().take(counts[0]).collect(),
        it.by_ref().take(counts[1]).collect(),
        it.by_ref().take(counts[2]).collect(),
    ];
    Ok(match_zones_with_vectors(
        &anchor_vecs,
        shots,
        &shot_vecs,
        anchors,
    ))
}

/// The pure part of [`match_zones`]: `shot_vecs[i]` is the embedding of
/// `shots[i].description` (an empty vector for no description: position decides).
pub fn match_zones_with_vectors(
    anchor_vecs: &[Vec<Vec<f32>>; 3],
    shots: &[ZoneInput],
    shot_vecs: &[Vec<f32>],
    anchors: &Anchors,
) -> Vec<ZoneMatch> {
    shots
        .iter()
        .enumerate()
        .map(|(i, shot)| {
            let position_zone = anchors.zone_at(shot.mid_s);
            let v = shot_vecs.get(i).map(Vec::as_slice).unwrap_or(&[]);
            let described = !shot.description.trim().is_empty() && !v.is_empty();
            let mut similarity = [0f32; 3];
            if described {
                for (sim, zone_vecs) in similarity.iter_mut().zip(anchor_vecs) {
                    *sim = zone_vecs.iter().map(|a| cosine(v, a)).fold(0f32, f32::max);
                }
            }
            let combined: Vec<f32> = Zone::ALL
                .iter()
                .map(|&z| {
                    similarity[z.index()] + POSITION_WEIGHT * anchors.proximity(z, shot.mid_s)
                })
                .collect();
            let zone = if described {
                // Ties go to the earlier zone: deterministic, and it keeps spoilers back.
                Zone::ALL.into_iter().fold(Zone::Beginning, |best, z| {
                    if combined[z.index()] > combined[best.index()] {
                        z
                    } else {
                        best
                    }
                })
            } else {
                position_zone
            };
            let reason = reason(
                zone,
                position_zone,
                &similarity,
                described,
                anchors.fraction(shot.mid_s),
            );
            ZoneMatch {
                shot_index: shot.shot_index,
                zone,
                similarity,
                position_zone,
                reason,
            }
        })
        .collect()
}

fn reason(zone: Zone, position_zone: Zone, sim: &[f32; 3], described: bool, frac: f64) -> String {
    let at = format!("at {:.0}% of runtime", frac * 100.0);
    if !described {
        return format!("{}: no description, by position {at}", zone.name());
    }
    let sims = format!(
        "similarity beginning {:.2} / escalation {:.2} / climax {:.2}",
        sim[0], sim[1], sim[2]
    );
    let how = if zone == position_zone {
        "content and position agree".to_string()
    } else {
        let best_sem = Zone::ALL.into_iter().fold(Zone::Beginning, |b, z| {
            if sim[z.index()] > sim[b.index()] {
                z
            } else {
                b
            }
        });
        if best_sem == zone {
            format!("content outweighs position ({})", position_zone.name())
        } else {
            format!("close call, position ({}) decides", position_zone.name())
        }
    };
    format!("{}: {how}; {sims}; {at}", zone.name())
}

const GENERIC: [&[&str]; 3] = [
    &[
        "An establishing shot of a peaceful place at the start of the story.",
        "A character is introduced going about their ordinary daily life.",
        "A calm, quiet everyday scene with people talking.",
    ],
    &[
        "Tension rises as a conflict begins and people argue.",
        "A character faces a growing threat and has to make a hard choice.",
        "A chase or a confrontation begins.",
    ],
    &[
        "The final confrontation: a huge fight, explosions and chaos.",
        "The most intense moment, with screaming, fire and danger everywhere.",
        "Everything is at stake in a desperate last stand.",
    ],
];

const PER_VIBE: [(&str, [&str; 3]); 18] = [
    (
        "action",
        [
            "The hero trains quietly before the mission.",
            "A car chase through city streets with gunfire.",
            "A massive explosion as the hero fights the villain hand to hand.",
        ],
    ),
    (
        "adventure",
        [
            "Explorers set out on a journey from their home village.",
            "The travellers cross a dangerous jungle and a collapsing rope bridge.",
            "The heroes grab the treasure as the temple collapses around them.",
        ],
    ),
    (
        "animation",
        [
            "A cheerful cartoon character wakes up in a colourful meadow.",
            "The little hero is chased by bullies through the forest.",
            "The small hero outwits the villains in a wild slapstick showdown.",
        ],
    ),
    (
        "comedy",
        [
            "Friends joke around in a messy apartment.",
            "An embarrassing misunderstanding spirals out of control at a party.",
            "Total chaos at the wedding as everything goes hilariously wrong.",
        ],
    ),
    (
        "crime",
        [
            "A detective arrives at a quiet crime scene.",
            "The police close in on the gang during a tense stakeout.",
            "A shootout erupts during the heist as the robbers flee.",
        ],
    ),
    (
        "documentary",
        [
            "A person explains their everyday life in an interview.",
            "Archival footage shows the crisis growing.",
            "The decisive moment that changed everything, caught on camera.",
        ],
    ),
    (
        "drama",
        [
            "A family sits together at dinner in a small house.",
            "A heated argument tears the family apart.",
            "A tearful confession in the rain changes everything.",
        ],
    ),
    (
        "family",
        [
            "Children play happily in the garden with their dog.",
            "The kids get lost and must find their way home.",
            "The family reunites in a joyful embrace after the danger.",
        ],
    ),
    (
        "fantasy",
        [
            "A farm boy in a quiet village discovers a magic sword.",
            "Dark creatures attack the companions in an enchanted forest.",
            "A wizard battles a dragon amid fire and lightning.",
        ],
    ),
    (
        "history",
        [
            "Peasants work the fields of a medieval kingdom.",
            "Armies gather as the king declares war.",
            "A great battle decides the fate of the empire.",
        ],
    ),
    (
        "horror",
        [
            "A family moves into an old house in the countryside.",
            "Strange noises and shadows appear in the dark hallway.",
            "The monster attacks and the survivors scream and run for their lives.",
        ],
    ),
    (
        "music",
        [
            "A young musician practises alone in a small bedroom.",
            "The band argues backstage before the big audition.",
            "The singer performs on a huge stage before a roaring crowd.",
        ],
    ),
    (
        "mystery",
        [
            "A letter arrives with a strange clue.",
            "The investigator uncovers a hidden secret in the archive.",
            "The truth is revealed and the culprit is unmasked.",
        ],
    ),
    (
        "romance",
        [
            "Two strangers meet by chance in a café.",
            "The lovers quarrel and walk away from each other.",
            "A passionate kiss in the rain as they finally reunite.",
        ],
    ),
    (
        "sci-fi",
        [
            "A spaceship drifts silently above a distant planet.",
            "Alarms blare as the crew discovers an alien presence on board.",
            "Laser fire and explosions as the starships clash in space.",
        ],
    ),
    (
        "thriller",
        [
            "An ordinary man notices he is being watched.",
            "A tense pursuit through crowded streets as time runs out.",
            "A desperate struggle for the gun as the bomb's timer counts down.",
        ],
    ),
    (
        "war",
        [
            "Young recruits say goodbye to their families at the train station.",
            "Soldiers advance through muddy trenches under artillery fire.",
            "The final assault: explosions, gunfire and soldiers charging across the battlefield.",
        ],
    ),
    (
        "western",
        [
            "A lone rider arrives in a dusty frontier town.",
            "Outlaws threaten the townsfolk in the saloon.",
            "The gunfighters face each other at high noon and draw.",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors() -> Anchors {
        Anchors {
            begin_t: 60.0,
            escalation_t: 320.0,
            climax_t: 740.0,
            runtime_s: 1000.0,
        }
    }

    /// Unit vectors along axis k (3-d stand-ins for the 384-d embeddings).
    fn axis(k: usize, w: f32) -> Vec<f32> {
        let mut v = vec![0.1; 3];
        v[k] = w;
        v
    }

    fn anchor_vecs() -> [Vec<Vec<f32>>; 3] {
        [vec![axis(0, 1.0)], vec![axis(1, 1.0)], vec![axis(2, 1.0)]]
    }

    fn shot(i: usize, t: f64, d: &str) -> ZoneInput {
        ZoneInput {
            shot_index: i,
            mid_s: t,
            description: d.into(),
        }
    }

    #[test]
    fn every_vibe_has_its_own_anchors_and_unknown_falls_back() {
        let generic = zone_anchors("no-such-vibe");
        for v in VIBES {
            let a = zone_anchors(v);
            for z in 0..3 {
                assert!(a[z].len() > generic[z].len(), "{v} zone {z}");
            }
        }
        assert_eq!(zone_anchors("Sci Fi"), zone_anchors("sci-fi"));
        assert_ne!(zone_anchors("horror")[2], zone_anchors("romance")[2]);
    }

    #[test]
    fn position_zones_follow_the_anchors() {
        let a = anchors();
        assert_eq!(a.zone_at(10.0), Zone::Beginning);
        assert_eq!(a.zone_at(400.0), Zone::Escalation);
        assert_eq!(a.zone_at(900.0), Zone::Climax);
        assert_eq!(a.proximity(Zone::Escalation, 400.0), 1.0);
        assert!(a.proximity(Zone::Climax, 700.0) > 0.5);
        assert_eq!(a.proximity(Zone::Climax, 100.0), 0.0);
    }

    #[test]
    fn clear_content_beats_position_and_ambiguous_content_follows_position() {
        let a = anchors();
        let shots = vec![
            shot(0, 50.0, "explosion"),  // climax content, early
            shot(1, 900.0, "breakfast"), // beginning content, late
            shot(2, 500.0, "a street"),  // neutral, middle
        ];
        let vecs = vec![axis(2, 1.0), axis(0, 1.0), vec![0.5, 0.5, 0.5]];
        let m = match_zones_with_vectors(&anchor_vecs(), &shots, &vecs, &a);
        assert_eq!(m[0].zone, Zone::Climax);
        assert_eq!(m[0].position_zone, Zone::Beginning);
        assert!(
            m[0].reason.contains("content outweighs position"),
            "{}",
            m[0].reason
        );
        assert_eq!(m[1].zone, Zone::Beginning);
        assert_eq!(m[2].zone, Zone::Escalation);
        assert!(m[2].reason.contains("position"), "{}", m[2].reason);
        assert!(m[0].similarity[2] > 0.9);
    }

    #[test]
    fn synthetic_film_is_ordered_beginning_escalation_climax() {
        // 30 shots; descriptions drift from calm to violent with noise, as a real
        // film does: mean positions per zone must come out in story order.
        let a = anchors();
        let mut shots = vec![];
        let mut vecs = vec![];
        for i in 0..30 {
            let t = 15.0 + i as f64 * 33.0;
            let f = (t / 1000.0) as f32;
            let wobble = ((i * 7) % 5) as f32 * 0.04;
            vecs.push(vec![1.0 - f + wobble, 1.0 - (2.0 * f - 1.0).abs(), f]);
            shots.push(shot(i, t, "described"));
        }
        let m = match_zones_with_vectors(&anchor_vecs(), &shots, &vecs, &a);
        let mean_t = |z: Zone| {
            let ts: Vec<f64> = m
                .iter()
                .filter(|x| x.zone == z)
                .map(|x| shots[x.shot_index].mid_s)
                .collect();
            assert!(!ts.is_empty(), "no shot in {z:?}");
            ts.iter().sum::<f64>() / ts.len() as f64
        };
        assert!(mean_t(Zone::Beginning) < mean_t(Zone::Escalation));
        assert!(mean_t(Zone::Escalation) < mean_t(Zone::Climax));
        assert!(m.iter().all(|x| !x.reason.is_empty()));
    }

    #[test]
    fn missing_description_falls_back_to_position() {
        let a = anchors();
        let shots = vec![shot(7, 800.0, "  ")];
        let m = match_zones_with_vectors(&anchor_vecs(), &shots, &[vec![]], &a);
        assert_eq!(m[0].zone, Zone::Climax);
        assert_eq!(m[0].shot_index, 7);
        assert_eq!(m[0].similarity, [0.0; 3]);
        assert!(m[0].reason.contains("no description"));
    }

    // With the real MiniLM weights: descriptions that move from set-up to showdown
    // come out zoned in story order.
    const FILM: &[&str] = &[
        "Morning sun over a quiet farm; a young man feeds the chickens.",
        "The young man has breakfast with his mother in a small kitchen, chatting.",
        "Wide shot of the peaceful village square with children playing.",
        "A stranger on horseback rides into the village at dusk.",
        "Two men argue angrily in the tavern and a chair is knocked over.",
        "Riders chase a wagon across the plains, firing rifles.",
        "A woman hides in the barn as armed men search the farm.",
        "The young man trains with a sword, determined and afraid.",
        "The village burns as bandits attack at night, people screaming.",
        "A huge explosion destroys the bridge in the final battle.",
        "The hero duels the bandit leader in the flames, swords clashing.",
        "Survivors embrace in the smoking ruins after the fight.",
    ];

    #[test]
    fn synthetic_film_zones_come_out_in_story_order() {
        let emb = crate::embed::test_embedder();
        let runtime = 1200.0;
        let shots: Vec<ZoneInput> = FILM
            .iter()
            .enumerate()
            .map(|(i, d)| ZoneInput {
                shot_index: i,
                mid_s: 50.0 + i as f64 * 100.0,
                description: d.to_string(),
            })
            .collect();
        let anchors = Anchors {
            begin_t: 60.0,
            escalation_t: 0.32 * runtime,
            climax_t: 0.74 * runtime,
            runtime_s: runtime,
        };
        let m = match_zones(emb, "western", &shots, &anchors).expect("match");
        for z in &m {
            eprintln!("{:>2} {:<10} {}", z.shot_index, z.zone.name(), z.reason);
        }
        assert_eq!(m.len(), FILM.len());
        let mean = |zone: Zone| {
            let ts: Vec<f64> = m
                .iter()
                .filter(|x| x.zone == zone)
                .map(|x| shots[x.shot_index].mid_s)
                .collect();
            assert!(!ts.is_empty(), "no shot in {zone:?}");
            ts.iter().sum::<f64>() / ts.len() as f64
        };
        assert!(mean(Zone::Beginning) < mean(Zone::Escalation));
        assert!(mean(Zone::Escalation) < mean(Zone::Climax));
        assert_eq!(m[0].zone, Zone::Beginning, "{}", m[0].reason);
        assert_eq!(m[9].zone, Zone::Climax, "{}", m[9].reason);
        for z in &m {
            assert!(z.similarity.iter().all(|s| (-1.0..=1.0).contains(s)));
            assert!(!z.reason.is_empty());
        }
    }

    #[test]
    fn staged_climax_early_in_the_film_keeps_its_zone() {
        let emb = crate::embed::test_embedder();
        let anchors = Anchors {
            begin_t: 30.0,
            escalation_t: 300.0,
            climax_t: 700.0,
            runtime_s: 1000.0,
        };
        let shots = vec![ZoneInput {
            shot_index: 4,
            mid_s: 100.0,
            description: "Massive explosions and gunfire as soldiers fight the final battle."
                .into(),
        }];
        let m = match_zones(emb, "war", &shots, &anchors).expect("match");
        assert_eq!(m[0].position_zone, Zone::Beginning);
        assert_eq!(m[0].zone, Zone::Climax, "{}", m[0].reason);
        assert!(m[0].similarity[2] > m[0].similarity[0] + 0.1);
    }
}
