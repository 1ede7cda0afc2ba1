# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bash completion for leaktrace. The option names come from `leaktrace --help` itself, so they
# never fall behind the binary.
_leaktrace()
{
	local cur prev words cword i
	_init_completion -s 2> /dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}

	# after "--": the command and its arguments
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} == -- ]]; then
			if ((i + 1 == cword)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(cd /proc && ls -d [0-9]* 2> /dev/null)" -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W 'text json folded pprof svg' -- "$cur"))
		return
		;;
	--sort)
		COMPREPLY=($(compgen -W 'size count growth age unreachable' -- "$cur"))
		return
		;;
	-O | --obj | -w | --output | --suppress)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--unwind)
		COMPREPLY=($(compgen -W 'auto cfi fp' -- "$cur"))
		return
		;;
	--debug-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	-c | --command)
		COMPREPLY=($(compgen -c -- "$cur"))
		return
		;;
	-T | --top | -o | --older | -z | --min-size | -Z | --max-size | -S | --symbols-prefix | \
		-s | --sample-rate | --sample-bytes | --baseline | --ringbuf-mb | \
		--stack-storage-size | --perf-max-stack-depth)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		local opts
		opts=$("${words[0]}" --help 2> /dev/null |
			sed -nE 's/^  (-([a-zA-Z]), )? *(--[a-z][a-z-]*).*/-\2 \3/p' | sed 's/^- //')
		COMPREPLY=($(compgen -W "$opts --" -- "$cur"))
	fi
} &&
	complete -F _leaktrace leaktrace
